# SPDX-License-Identifier: Apache-2.0
"""The SP's own symmetric secrets: index keys, encryption of stored values, signed cookies.

One key file, named by ``ekn_saml.server_keys`` and made by
``ekn-saml keygen --server-keys``, holds one key per line, **newest first**::

    # ekn_saml server keys (newest first)
    k20261203T101500  c2VjcmV0LXRoYXQtaXMtMzItYnl0ZXMtbG9uZy4uLi4

Each line is a key id (letters, digits, ``-`` and ``_``) and 32 random bytes in
URL-safe base64.  Rollover: put a new key first and keep the old ones while
data made with them may still live (at most the session's absolute timeout);
writes always use the newest key, reads accept every key in the file.

Every use gets its own key, derived with HKDF-SHA256 from the file's key and
the use's name (``purpose``), so a MAC key is never an encryption key and one
use's tags mean nothing to another.  Values are encrypted with AES-256-GCM
(the ``cryptography`` package), with a random 96-bit nonce and associated
data the caller chooses (for a stored value: where it is stored, so a value
cannot be moved to another key).

This module does **not** decide what is secret: callers choose what to MAC or
encrypt.  It does not read settings; :func:`load_server_keys` does.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import logging
import os
import re
import secrets
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

log = logging.getLogger("ekn_saml")

KEY_BYTES = 32
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_NONCE_BYTES = 12
# the version tag of an encrypted value; a later format gets another
_SEALED_PREFIX = "v1."


class UndecryptableError(ValueError):
    """A sealed value that no key of the file opens (unknown key id, altered, or another place)."""


@dataclass(frozen=True)
class ServerKey:
    """One key of the file: its id and its 32 secret bytes."""

    key_id: str
    secret: bytes

    def __repr__(self) -> str:  # never print the secret, e.g. in a traceback
        return f"ServerKey({self.key_id!r})"

    @lru_cache(maxsize=32)  # noqa: B019 - a handful of purposes per key; keys live as long as the process
    def derived(self, purpose: str) -> bytes:
        """The 32-byte key of ``purpose`` (HKDF-SHA256, info ``ekn_saml/<purpose>``)."""
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"ekn_saml/" + purpose.encode()).derive(
            self.secret
        )

    @lru_cache(maxsize=32)  # noqa: B019 - as derived(): an AESGCM object keeps its key schedule; calls share no state
    def cipher(self, purpose: str) -> AESGCM:
        """AES-256-GCM under the key of ``purpose``, made once (every session read and write uses it)."""
        return AESGCM(self.derived(purpose))


def new_key_line(now: dt.datetime | None = None) -> str:
    """A fresh key line for the file: an id from the time and 32 random bytes."""
    moment = now or dt.datetime.now(dt.UTC)
    key_id = "k" + moment.strftime("%Y%m%dT%H%M%S")
    secret = base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode().rstrip("=")
    return f"{key_id}  {secret}"


class ServerKeys:
    """The keys of one file, newest first; shared by every thread (no per-call state)."""

    def __init__(self, keys: Sequence[ServerKey], *, source: str = "") -> None:
        if not keys:
            raise ValueError("no server key")
        ids = [k.key_id for k in keys]
        if len(set(ids)) != len(ids):
            raise ValueError("a key id appears twice")
        self.keys = tuple(keys)
        self.source = source
        self._by_id = {k.key_id: k for k in keys}

    @property
    def newest(self) -> ServerKey:
        return self.keys[0]

    @classmethod
    def ephemeral(cls) -> ServerKeys:
        """One random key that lives as long as this process (development and tests only)."""
        return cls([ServerKey("ephemeral", secrets.token_bytes(KEY_BYTES))], source="ephemeral")

    @classmethod
    def parse(cls, text: str, *, source: str = "") -> ServerKeys:
        """Read the file format of the module docstring; ValueError naming the line of any problem."""
        keys = []
        for number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) != 2 or not _KEY_ID.match(parts[0]):
                raise ValueError(f"line {number}: expected '<key id> <32 bytes in base64url>'")
            try:
                # strict: only the base64url alphabet (urlsafe_b64decode would skip other characters)
                if not re.fullmatch(r"[A-Za-z0-9_-]+={0,2}", parts[1]):
                    raise ValueError(parts[1])
                secret = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
            except (binascii.Error, ValueError):
                raise ValueError(f"line {number}: the key is not base64url") from None
            if len(secret) != KEY_BYTES:
                raise ValueError(f"line {number}: the key has {len(secret)} bytes, not {KEY_BYTES}")
            keys.append(ServerKey(parts[0], secret))
        if not keys:
            raise ValueError("the file holds no key")
        return cls(keys, source=source)

    @classmethod
    def from_file(cls, path: str) -> ServerKeys:
        """Load ``path``; ValueError if it is unreadable, malformed, or readable by other users.

        Like ssh with a private key, a file that the group or others may read
        or write is refused: these keys open every stored identity.
        """
        try:
            mode = os.stat(path).st_mode
            with open(path, encoding="ascii") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot be read ({exc.__class__.__name__}: {exc})") from None
        if stat.S_IMODE(mode) & 0o077:
            raise ValueError(f"is open to other users (mode {stat.S_IMODE(mode):04o}); run chmod 600 on it")
        return cls.parse(text, source=path)

    # --- MACs (index keys, signed values) ---

    def mac(self, purpose: str, data: str) -> str:
        """HMAC-SHA256 of ``data`` under the newest key's ``purpose`` key, as 64 hex digits."""
        return _mac(self.newest, purpose, data)

    def macs(self, purpose: str, data: str) -> list[str]:
        """:meth:`mac` under every key, newest first: what to look up while older keys may have written."""
        return [_mac(key, purpose, data) for key in self.keys]

    def sign(self, purpose: str, value: str) -> str:
        """``value.tag``: ``value`` with a MAC under the newest key (``value`` must not contain ``.``)."""
        if "." in value:
            raise ValueError("a signed value may not contain '.'")
        return f"{value}.{self.newest.key_id}.{_mac(self.newest, purpose, value)[:43]}"

    def unsign(self, purpose: str, signed: str | None) -> str | None:
        """The value of a :meth:`sign` result made with any key of the file, else ``None``."""
        if not signed or signed.count(".") != 2:
            return None
        value, key_id, tag = signed.split(".")
        key = self._by_id.get(key_id)
        if key is None or not hmac.compare_digest(tag, _mac(key, purpose, value)[:43]):
            return None
        return value

    # --- encryption (stored values) ---

    def seal(self, purpose: str, plaintext: bytes, *, context: str = "") -> str:
        """AES-256-GCM under the newest key; ``context`` is authenticated, not stored.

        The result is ``v1.<key id>.<base64url(nonce + ciphertext + tag)>``.
        """
        key = self.newest
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = key.cipher(purpose).encrypt(nonce, plaintext, context.encode())
        return f"{_SEALED_PREFIX}{key.key_id}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, purpose: str, sealed: str, *, context: str = "") -> bytes:
        """The plaintext of a :meth:`seal` result made with any key of the file and the same ``context``.

        Raises :class:`UndecryptableError` otherwise (an unknown key id, a
        changed byte, another context or purpose).
        """
        if not isinstance(sealed, str) or not sealed.startswith(_SEALED_PREFIX):
            raise UndecryptableError("not a sealed value")
        key_id, _, body = sealed[len(_SEALED_PREFIX) :].partition(".")
        key = self._by_id.get(key_id)
        if key is None:
            raise UndecryptableError(f"sealed with key {key_id[:32]!r}, which is not in the key file")
        try:
            raw = base64.urlsafe_b64decode(body)
            return key.cipher(purpose).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode())
        except (binascii.Error, ValueError, InvalidTag):
            raise UndecryptableError("the sealed value does not open (altered, or sealed for another place)") from None

    def is_sealed_with_newest(self, sealed: str) -> bool:
        """Whether :meth:`seal` made ``sealed`` with the newest key (older ones are rewritten on the next save)."""
        return isinstance(sealed, str) and sealed.startswith(f"{_SEALED_PREFIX}{self.newest.key_id}.")


def _mac(key: ServerKey, purpose: str, data: str) -> str:
    return hmac.new(key.derived(purpose), data.encode(), hashlib.sha256).hexdigest()


def write_key_file(path: str, *, rotate: bool = False) -> str:
    """Write a new key file (mode 0600), or with ``rotate`` put a new key first in the existing one.

    Returns the new key's id.  Refuses (FileExistsError) to replace an
    existing file unless ``rotate``: losing the keys makes every stored
    session unreadable.  The file is replaced atomically.
    """
    line = new_key_line()
    old = ""
    if os.path.exists(path):
        if not rotate:
            raise FileExistsError(path)
        with open(path, encoding="ascii") as fh:
            old = "".join(text + "\n" for text in fh.read().splitlines() if text.strip() and not text.startswith("#"))
    elif rotate:
        raise FileNotFoundError(path)
    content = "# ekn_saml server keys, newest first (see docs/admin.md, 'Server keys')\n" + line + "\n" + old
    ServerKeys.parse(content)  # never write a file the app would refuse
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(content)
        os.chmod(tmp, 0o600)  # whatever the umask
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return line.split()[0]


def load_server_keys(path: str, *, development: bool, quiet: bool = False) -> tuple[ServerKeys | None, list[str]]:
    """The keys ``ekn_saml.server_keys`` names: ``(keys, problems)``.

    Without a path, development (the development IdP or ``ekn_saml.testing``)
    gets one ephemeral key, with a warning: stored sessions then do not
    survive a restart and cannot be shared by processes (``quiet``: no
    warning, for test suites).  Anything else
    without a path is a problem: the store's index keys and encrypted
    identities need a secret that lives as long as the data.
    """
    if not path:
        if development:
            if not quiet:
                log.warning(
                    "ekn_saml.server_keys is not set: using a key that lives only as long as this process "
                    "(development only; `ekn-saml keygen --server-keys` makes a file)"
                )
            return ServerKeys.ephemeral(), []
        return None, [
            "ekn_saml.server_keys is required: the secret that keys the store's indexes and encrypts stored "
            "identities (make one with `ekn-saml keygen --server-keys <ini>`)"
        ]
    try:
        return ServerKeys.from_file(path), []
    except ValueError as exc:
        return None, [f"ekn_saml.server_keys {path}: {exc}"]
