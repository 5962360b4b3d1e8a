# SPDX-License-Identifier: Apache-2.0
"""Getting federation metadata's bytes and keeping them: the download, the atomic write, the pinned signers.

Nothing here parses or verifies a document (:mod:`.aggregate` does).
"""

from __future__ import annotations

import contextlib
import os
import ssl
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from ..errors import ConfigurationError, MetadataError
from ..settings import FederationSettings
from ..xmlsecurity import PublicKey

_CHUNK = 1024 * 1024


class _HttpsOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects, but never from https to anything weaker."""

    def __init__(self, allow_loopback_http: bool) -> None:
        self.allow_loopback_http = allow_loopback_http

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if not _scheme_allowed(newurl, self.allow_loopback_http):
            fp.close()  # urllib closes it only after a redirect it follows
            raise MetadataError(f"redirect to {newurl!r} refused: federation metadata is fetched over https only")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _scheme_allowed(url: str, allow_loopback_http: bool) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and allow_loopback_http and parts.hostname in ("127.0.0.1", "::1", "localhost")


def is_remote(url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https")


def read_source(settings: FederationSettings, *, progress: Callable[[int, int | None], None] | None = None) -> bytes:
    """The raw bytes of ``settings.metadata_url`` (a file path, file:// or https URL).

    Size-capped at ``max_bytes``; network reads time out after ``timeout``
    seconds each and the whole download after ten times that.  Raises
    MetadataError for every failure.  Does **not** parse or verify.
    """
    url = settings.metadata_url
    if not is_remote(url):
        path = urlsplit(url).path if url.startswith("file:") else url
        try:
            with open(path, "rb") as fh:
                data = fh.read(settings.max_bytes + 1)
        except OSError as exc:
            raise MetadataError(f"{url}: cannot be read: {exc.strerror or exc}") from None
        if len(data) > settings.max_bytes:
            raise MetadataError(f"{url}: larger than federation.max_bytes ({settings.max_bytes})")
        if progress:
            progress(len(data), len(data))
        return data
    if not _scheme_allowed(url, settings.allow_loopback_http):
        raise MetadataError(f"{url}: only https is allowed")
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=ssl.create_default_context()),
        _HttpsOnlyRedirects(settings.allow_loopback_http),
    )
    # https only (checked above), or http to loopback with ekn_saml.testing
    request = urllib.request.Request(  # noqa: S310
        url, headers={"User-Agent": "ekn_saml", "Accept": "application/samlmetadata+xml, application/xml;q=0.9"}
    )
    deadline = time.monotonic() + 10 * settings.timeout
    try:
        with opener.open(request, timeout=settings.timeout) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isascii() and length.isdigit() else None
            if total is not None and total > settings.max_bytes:
                raise MetadataError(f"{url}: {total} bytes is larger than federation.max_bytes ({settings.max_bytes})")
            chunks, size = [], 0
            while chunk := response.read(_CHUNK):
                chunks.append(chunk)
                size += len(chunk)
                if size > settings.max_bytes:
                    raise MetadataError(f"{url}: larger than federation.max_bytes ({settings.max_bytes})")
                if time.monotonic() > deadline:
                    raise MetadataError(f"{url}: download took longer than {10 * settings.timeout} s")
                if progress:
                    progress(size, total)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise MetadataError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise MetadataError(f"{url}: cannot be fetched: {reason}") from None
    return b"".join(chunks)


def write_atomically(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a part."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".ekn-metadata-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):  # the write failed already: that is the error to report
            os.unlink(tmp)
        raise


def load_signers(paths: Iterable[str]) -> list[PublicKey]:
    """The pinned federation signing certificates; ConfigurationError if one cannot be read."""
    signers, problems = [], []
    for path in paths:
        try:
            with open(path, "rb") as fh:
                signers.append(PublicKey.from_pem(fh.read()))
        except (OSError, ValueError) as exc:
            problems.append(f"ekn_saml.federation.signing_cert {path}: cannot be read ({exc})")
    if problems:
        raise ConfigurationError(problems)
    return signers
