# SPDX-License-Identifier: Apache-2.0
"""Server-side sessions on the state store: the cookie holds only a random id.

No personal data ever reaches the client.  Idle and absolute timeouts are
enforced here, on the server, whatever the cookie says.  The id is rotated
by :meth:`StoreSession.rotate` (called at login), and every session is
indexed by its identity's subject so that all of them can be ended at once
(:func:`end_sessions`), and by (IdP, NameID, SessionIndex) so that a SAML
Single Logout can reach it (:meth:`StoreSessionFactory.end_saml_sessions`).

Personal data at rest is unreadable without the server keys
(``ekn_saml.server_keys``, :class:`~ekn_saml.server_keys.ServerKeys`): index
keys are HMACs under them, and a session's data (the identity, the CSRF
token, whatever the host app stores) is sealed with AES-256-GCM under them.
Only the two timestamps the timeouts need stay in clear, and they are
authenticated with the data.  After a key rollover, lookups try every key
of the file, and a session sealed with an older key is sealed again with
the newest on its next save.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time

from pyramid.interfaces import ISession, ISessionFactory
from zope.interface import implementer

from . import cookies
from .errors import ErrorCode
from .interfaces import ISamlSessionFactory
from .server_keys import ServerKeys, UndecryptableError
from .storage import StateStore, StoreWrite

log = logging.getLogger("ekn_saml")

# Where a session holds its login (ekn_saml.login_state writes them): the
# identity as a dict, and its subject, by which the session is indexed.
IDENTITY_KEY = "ekn_saml.identity"
SUBJECT_KEY = "ekn_saml.subject"
# The request attribute (a reified request method, ekn_saml.includeme) that
# holds the request's own ekn_saml session, whatever request.session is.
REQUEST_ATTR = "ekn_saml_session"

SESSIONS = "session"
SUBJECT_INDEX = "session_by_subject"
SAML_INDEX = "session_by_saml"  # (IdP, NameID[, SessionIndex]) -> session keys, for Single Logout
_TOUCH_EVERY = 60  # seconds between writes of an unchanged session (idle timer refresh)

# ServerKeys purposes: each gets its own derived key, so one use's MACs or
# ciphertexts mean nothing to another.
_SUBJECT_INDEX_PURPOSE = "session-index/subject"
_SAML_INDEX_PURPOSE = "session-index/saml"
_RECORD_PURPOSE = "session-record"
_SESSION_END_PURPOSE = "session-end"

# The session-end cookie: when the login's session ends if nothing happens
# (its idle and absolute deadlines, epoch seconds, signed with the server
# keys), so that the chooser can say why a user was logged out.  Two numbers:
# no personal data, nothing that opens a session.  Written with the session
# cookie, deleted with it (logout) and by the chooser once it has told.
SESSION_END_COOKIE = "ekn_session_end"
IDLE = "idle"
ABSOLUTE = "absolute"


def subject_index_key(server_keys: ServerKeys, subject: str) -> str:
    """The index key a session of ``subject`` is written under: an HMAC under the newest server key.

    Keyed, not a plain hash: a subject holds a personal identity number, index
    keys are visible (as Redis key names, as SQLite rows), and an unkeyed hash
    of a personal identity number is reversed by trying every valid number.
    Lookups must try :meth:`ServerKeys.macs` (every key), as
    :meth:`StoreSessionFactory.end_sessions_of` does.
    """
    return server_keys.mac(_SUBJECT_INDEX_PURPOSE, subject)


def _saml_index_data(idp: str, name_id: str, session_index: str | None) -> str:
    # JSON, so that ("a", "b:c") and ("a:b", "c") never give the same input
    parts = [idp, name_id] if session_index is None else [idp, name_id, session_index]
    return json.dumps(parts)


def saml_index_key(server_keys: ServerKeys, idp: str, name_id: str, session_index: str | None = None) -> str:
    """Key of the SAML index (HMAC under the newest server key): all sessions of a NameID at an IdP, or one SessionIndex.

    A LogoutRequest names the NameID and optionally SessionIndexes, so both
    keys are written; ``session_index=None`` means "every session".  Keyed
    for the reason given at :func:`subject_index_key` (a NameID may be
    derived from the personal identity number).
    """
    return server_keys.mac(_SAML_INDEX_PURPOSE, _saml_index_data(idp, name_id, session_index))


def _store_key(session_id: str) -> str:
    # The store holds a hash: a copy of the store does not hand out live cookies.
    return hashlib.sha256(session_id.encode()).hexdigest()


def _record_context(key: str, created, accessed) -> str:
    """What a sealed session is bound to: its store key and its (clear) timestamps.

    The key: a record copied under another session's key does not open.  The
    timestamps: whoever can write the store cannot stretch the idle or
    absolute timeout of a session by editing them.
    """
    return f"{key} {created!r} {accessed!r}"


@implementer(ISession)
class StoreSession(dict):
    """A Pyramid ISession whose data lives, sealed, in a :class:`StateStore`.

    ``record`` is the opened record (``data``, ``created``, ``accessed``) or
    ``None`` for a new session; ``reseal`` says it was sealed with an older
    server key, so the next save writes it even if nothing changed.
    """

    def __init__(
        self,
        factory: StoreSessionFactory,
        request,
        session_id: str | None,
        record: dict | None,
        *,
        reseal: bool = False,
    ) -> None:
        super().__init__((record or {}).get("data", {}))
        now = factory.clock()
        self._factory = factory
        self._request = request
        self._id = session_id
        self.new = record is None
        self.created = (record or {}).get("created", now)
        self._accessed = (record or {}).get("accessed", now)
        self._changed = False
        self._reseal = reseal
        # ids to remove at save, each with the index entries that point at it
        self._old_ids: list[tuple[str, list[tuple[str, str]]]] = []
        # what the store already holds under the newest key; a session sealed
        # with an older key was indexed under that key's MACs, so it is
        # indexed again under the newest when it is sealed again
        self._indexed = self._index_entries() if record is not None and not reseal else []

    def ends(self) -> tuple[float, str]:
        """When this session ends if nothing else happens (epoch seconds), and by which timeout (:data:`IDLE`, :data:`ABSOLUTE`).

        As it will be after this request's save: a session the save writes
        (changed, or last written :data:`_TOUCH_EVERY` seconds ago or more)
        has its idle timer restarted now.
        """
        factory = self._factory
        now = factory.clock()
        touched = self._changed or (not self.new and now - self._accessed >= _TOUCH_EVERY)
        idle_end = (now if touched else self._accessed) + factory.idle_timeout
        absolute_end = self.created + factory.absolute_timeout
        return (idle_end, IDLE) if idle_end < absolute_end else (absolute_end, ABSOLUTE)

    # --- ISession ---
    def changed(self) -> None:
        self._changed = True

    def invalidate(self) -> None:
        """Drop the data and the id; a new id is issued if anything is stored later."""
        self._retire_id()
        super().clear()
        self.created = self._factory.clock()
        self._changed = True

    def rotate(self) -> None:
        """Keep the data under a new id and a new CSRF token (fixation defence at login)."""
        self._retire_id()
        self.new_csrf_token()
        self._changed = True

    def _retire_id(self) -> None:
        # The old id leaves the store, and the indexes that point at it, at
        # save: under every server key, as it may have been indexed before a rollover.
        if self._id:
            self._old_ids.append((self._id, self._index_entries(every_key=True)))
        self._id = None

    def _index_entries(self, *, every_key: bool = False) -> list[tuple[str, str]]:
        """The (namespace, index key) pairs this session's data belongs under.

        Under the newest server key (where it is written), or with
        ``every_key`` under each key of the file (what to remove).
        """
        sources = []
        subject = self.get(SUBJECT_KEY)
        if subject:
            sources.append((SUBJECT_INDEX, _SUBJECT_INDEX_PURPOSE, subject))
        identity = self.get(IDENTITY_KEY)
        if isinstance(identity, dict) and identity.get("idp") and identity.get("name_id"):
            idp, name_id = identity["idp"], identity["name_id"]
            sources.append((SAML_INDEX, _SAML_INDEX_PURPOSE, _saml_index_data(idp, name_id, None)))
            session_index = identity.get("session_index") or ""
            sources.append((SAML_INDEX, _SAML_INDEX_PURPOSE, _saml_index_data(idp, name_id, session_index)))
        keys = self._factory.server_keys
        if every_key:
            return [(namespace, mac) for namespace, purpose, data in sources for mac in keys.macs(purpose, data)]
        return [(namespace, keys.mac(purpose, data)) for namespace, purpose, data in sources]

    def flash(self, msg, queue="", allow_duplicate=True):
        storage = self.setdefault("_f_" + queue, [])
        if allow_duplicate or msg not in storage:
            storage.append(msg)
            self.changed()

    def pop_flash(self, queue=""):
        self._changed = True
        return self.pop("_f_" + queue, [])

    def peek_flash(self, queue=""):
        return self.get("_f_" + queue, [])

    def new_csrf_token(self):
        token = secrets.token_urlsafe(32)
        self["_csrft_"] = token
        return token

    def get_csrf_token(self):
        return self.get("_csrft_") or self.new_csrf_token()

    # every mutation marks the session changed
    def _mutate(name):  # noqa: N805 - helper run at class creation
        def method(self, *args, **kwargs):
            self._changed = True
            return getattr(dict, name)(self, *args, **kwargs)

        method.__name__ = name
        return method

    __setitem__ = _mutate("__setitem__")
    __delitem__ = _mutate("__delitem__")
    setdefault = _mutate("setdefault")
    pop = _mutate("pop")
    popitem = _mutate("popitem")
    update = _mutate("update")
    clear = _mutate("clear")
    del _mutate

    def save(self, request, response) -> None:
        """Persist and set the cookie; called by :func:`session_tween_factory`.

        The store sees at most one read (is a session that was read still
        there?) and one :meth:`~ekn_saml.storage.StateStore.write_batch`:
        the retired ids' removal, the index entries and the sealed record
        together, atomic in the built-in backends.  An unchanged session is
        not written, except to refresh its idle timer (every
        ``_TOUCH_EVERY`` seconds) or to seal it again with the newest key.
        """
        factory = self._factory
        writes = self._retirements()
        try:
            self._save(request, response, writes)
        finally:
            # the retired ids go whatever happens to the rest (as when each was its own call)
            if writes:
                factory.store.write_batch(writes)

    def _retirements(self) -> list[StoreWrite]:
        """The writes that remove the retired ids (and the index entries that point at them)."""
        writes = []
        for old, entries in self._old_ids:
            old_key = _store_key(old)
            writes.append(StoreWrite.delete(SESSIONS, old_key))
            writes += [StoreWrite.index_discard(namespace, index_key, old_key) for namespace, index_key in entries]
        return writes

    def _save(self, request, response, writes: list[StoreWrite]) -> None:
        """Add to ``writes`` what persists this session, and set or delete the cookie."""
        factory = self._factory
        now = factory.clock()
        if not self._changed and not self._reseal and (self.new or now - self._accessed < _TOUCH_EVERY):
            return
        if not dict.__len__(self):
            if self._old_ids or self._id:
                factory.delete_cookie(response)
            if self._id:
                writes.append(StoreWrite.delete(SESSIONS, _store_key(self._id)))
            return
        entries = self._index_entries()
        if self._id is None:
            self._id = secrets.token_urlsafe(32)
            self._indexed = []
        elif factory.store.get(SESSIONS, _store_key(self._id)) is None:
            # Ended while this request ran (logout elsewhere, end_sessions_of,
            # timeout): writing it back would bring it to life again.  The
            # window left is this get/write pair, not the whole request.
            # (A session with an id has retired none, so ``writes`` is empty here.)
            factory.delete_cookie(response)
            return
        key = _store_key(self._id)
        # Indexed before it is stored (and in the same batch), so a stored
        # session is always reachable by end_sessions_of; an index entry
        # without its session is harmless.
        writes += [
            StoreWrite.index_add(namespace, index_key, key, factory.absolute_timeout)
            for namespace, index_key in entries
            if (namespace, index_key) not in self._indexed
        ]
        writes.append(
            StoreWrite.put(
                SESSIONS,
                key,
                {"sealed": factory._seal(key, self, self.created, now), "created": self.created, "accessed": now},
                factory.ttl_for(self.created, now),
            )
        )
        self._indexed = entries
        self._reseal = False
        factory.set_cookie(request, response, self._id)
        factory.set_session_end_cookie(response, created=self.created, accessed=now)


@implementer(ISessionFactory, ISamlSessionFactory)
class StoreSessionFactory:
    """Builds :class:`StoreSession` objects: the plugin's :class:`~ekn_saml.interfaces.ISamlSessionFactory`.

    ``config.include("ekn_saml")`` registers one as a utility and keeps each
    request's session as ``request.ekn_saml_session``; it is the app's
    ``request.session`` only with the opt-in ``ekn_saml.host_wide.session_factory``.
    """

    def __init__(
        self,
        store: StateStore,
        *,
        server_keys: ServerKeys,
        cookie_name: str = "ekn_session",
        secure: bool = True,
        idle_timeout: int = 1800,
        absolute_timeout: int = 8 * 3600,
        clock=time.time,
    ) -> None:
        self.store = store
        # index MACs and sealed records; the same file on every process and node
        self.server_keys = server_keys
        # __Host-<name> when Secure: a subdomain cannot plant a session cookie (ekn_saml.cookies)
        self.cookie_name = cookies.cookie_name(cookie_name, secure=secure)
        self.secure = secure
        self.idle_timeout = idle_timeout
        self.absolute_timeout = absolute_timeout
        # Epoch seconds for the idle and absolute timeouts; tests replace it.
        # The store's own TTLs are a second, coarser line behind these checks.
        self.clock = clock

    def ttl_for(self, created: float, now: float) -> int:
        return max(1, int(min(self.idle_timeout, created + self.absolute_timeout - now)))

    def _seal(self, key: str, data: dict, created, accessed) -> str:
        """``data`` as JSON, sealed with the newest server key for the record at store key ``key``."""
        plaintext = json.dumps(data, separators=(",", ":")).encode()
        return self.server_keys.seal(_RECORD_PURPOSE, plaintext, context=_record_context(key, created, accessed))

    def __call__(self, request) -> StoreSession:
        session_id = request.cookies.get(self.cookie_name)
        record, reseal = None, False
        if session_id and len(session_id) < 100:
            key = _store_key(session_id)
            stored = self.store.get(SESSIONS, key)
            if stored is not None:
                record, reseal = self._open(key, stored)
        if record is None:
            session_id = None
        return StoreSession(self, request, session_id, record, reseal=reseal)

    def _open(self, key: str, stored: dict) -> tuple[dict | None, bool]:
        """The opened record at ``key`` and whether it needs sealing again; ``(None, False)`` if it ended.

        Opened before the timeouts are checked, so that they are checked on
        authenticated times.  A record that does not open (its key removed
        from the file, altered, moved, or written in clear by an older
        version) ends the session: it is deleted and logged (EKN-OPS-004),
        never shown as an error.  Its index entries are left to expire.
        """
        created, accessed = stored.get("created"), stored.get("accessed")
        sealed = stored.get("sealed")
        try:
            plaintext = self.server_keys.open(_RECORD_PURPOSE, sealed, context=_record_context(key, created, accessed))
        except UndecryptableError as exc:
            log.warning("%s: a stored session does not open (%s); it is ended", ErrorCode.SESSION_UNREADABLE.value, exc)
            self.store.delete(SESSIONS, key)
            return None, False
        now = self.clock()
        if now - accessed > self.idle_timeout or now - created > self.absolute_timeout:
            self.store.delete(SESSIONS, key)
            return None, False
        record = {"data": json.loads(plaintext), "created": created, "accessed": accessed}
        return record, not self.server_keys.is_sealed_with_newest(sealed)

    def set_cookie(self, request, response, session_id: str) -> None:
        # Lax: the session is never needed on the IdP's cross-site POST, which
        # is bound by its own short-lived cookie instead (checklist §3.1).
        response.set_cookie(
            self.cookie_name,
            session_id,
            path="/",
            httponly=True,
            secure=self.secure,
            samesite="Lax",
        )

    def delete_cookie(self, response) -> None:
        # with the attributes it was set with: a browser ignores a deletion
        # of a __Host- cookie that lacks Secure
        # (WebOb's delete_cookie cannot say Secure; a None value is its deletion)
        response.set_cookie(self.cookie_name, None, path="/", httponly=True, secure=self.secure, samesite="Lax")
        self.delete_session_end_cookie(response)

    @property
    def session_end_cookie_name(self) -> str:
        return cookies.cookie_name(SESSION_END_COOKIE, secure=self.secure)

    def set_session_end_cookie(self, response, *, created: float, accessed: float) -> None:
        """The signed idle and absolute deadlines of the session just saved (:data:`SESSION_END_COOKIE`)."""
        deadlines = f"{int(accessed + self.idle_timeout)}-{int(created + self.absolute_timeout)}"
        response.set_cookie(
            self.session_end_cookie_name,
            self.server_keys.sign(_SESSION_END_PURPOSE, deadlines),
            # long enough to tell a user who comes back after the absolute timeout
            max_age=self.absolute_timeout + 86400,
            path="/",
            httponly=True,
            secure=self.secure,
            samesite="Lax",
        )

    def delete_session_end_cookie(self, response) -> None:
        response.set_cookie(
            self.session_end_cookie_name, None, path="/", httponly=True, secure=self.secure, samesite="Lax"
        )

    def ended_by(self, request) -> str | None:
        """Which timeout ended the browser's last session (:data:`IDLE`, :data:`ABSOLUTE`), from its session-end cookie.

        ``None`` without a valid cookie, or while that session's deadlines
        have not passed (the caller checks that nobody is logged in).
        """
        value = self.server_keys.unsign(_SESSION_END_PURPOSE, request.cookies.get(self.session_end_cookie_name))
        idle_end, _, absolute_end = (value or "").partition("-")
        if not (idle_end.isdigit() and absolute_end.isdigit()):
            return None
        now = self.clock()
        if now >= int(absolute_end) and int(absolute_end) <= int(idle_end):
            return ABSOLUTE
        if now >= int(idle_end):
            return IDLE
        return None

    def end_session(self, store_key: str) -> None:
        """End the one stored session whose store key is ``store_key`` (see :func:`current_session_key`).

        Its index entries are left to expire (an index entry without its
        session is harmless).  Does **not** check whose session it is: the
        caller must know why this one ends.
        """
        self.store.delete(SESSIONS, store_key)

    def end_sessions_of(self, subject: str) -> int:
        """End every session of ``subject`` (an :attr:`Identity.subject`); return how many.

        Sessions indexed under any key of the server key file are found, so a
        rollover does not hide the older ones.  The count is of the sessions
        the index names, which may include some that had already ended.
        Their SAML index entries are left to expire.
        """
        return self._end_indexed(SUBJECT_INDEX, self.server_keys.macs(_SUBJECT_INDEX_PURPOSE, subject))

    def end_saml_sessions(self, idp: str, name_id: str, session_index: str | None = None) -> int:
        """End the sessions a LogoutRequest names: NameID at ``idp``, and SessionIndex if given.

        Does **not** check the LogoutRequest itself (signature, issuer): the
        caller must have done that.  Looks under every server key; returns
        the number of sessions the index names.
        """
        data = _saml_index_data(idp, name_id, session_index)
        return self._end_indexed(SAML_INDEX, self.server_keys.macs(_SAML_INDEX_PURPOSE, data))

    def _end_indexed(self, namespace: str, index_keys: list[str]) -> int:
        ended = set()
        for index_key in index_keys:
            for key in self.store.index_members(namespace, index_key):
                self.store.delete(SESSIONS, key)
                self.store.index_discard(namespace, index_key, key)
                ended.add(key)
        return len(ended)


def request_session(request) -> StoreSession:
    """The request's own ekn_saml session, opened from its cookie (the body of ``request.ekn_saml_session``).

    ``config.include("ekn_saml")`` registers it as a reified request method,
    so it runs at most once per request: use ``request.ekn_saml_session``.
    Opening costs one store read when the request has a session cookie.
    """
    return request.registry.getUtility(ISamlSessionFactory)(request)


def _opened_session(request) -> StoreSession | None:
    # the request's session if something has opened it already, without opening it
    session = request.__dict__.get(REQUEST_ATTR)
    return session if isinstance(session, StoreSession) else None


def current_session_key(request) -> str | None:
    """The store key of the stored session ``request`` came with, or ``None`` (no cookie, ended, new).

    The key, never the cookie value, is what may be recorded elsewhere
    (a copy of the store does not hand out live cookies).  Reads the
    session, so it costs one store read when the request has a session cookie.
    """
    session = getattr(request, REQUEST_ATTR)
    if not isinstance(session, StoreSession) or session.new or not session._id:
        return None
    return _store_key(session._id)


def end_replaced_session(request, store_key: str) -> None:
    """End the session ``store_key``, which a login finishing in ``request`` replaces, unless it is ``request``'s own.

    The IdP's POST to the ACS is cross-site, so it carries no session cookie
    and the browser's earlier session (recorded at the login start, a
    same-site GET) would stay alive on the server until it timed out.  The
    request's own session is left to :func:`~ekn_saml.login_state.remember_identity`,
    which ends its id at save (and keeps pre-login data of the same user).
    """
    if store_key != current_session_key(request):
        request.registry.getUtility(ISamlSessionFactory).end_session(store_key)


def end_current_session(request) -> None:
    """End ``request``'s own stored session now, in the store, not at save.

    For a failure that must log the user out although the request ends in an
    exception view (which saves no session changes): a step-up answered by
    someone else.  Nothing if the request came without a stored session.
    """
    key = current_session_key(request)
    if key is not None:
        request.registry.getUtility(ISamlSessionFactory).end_session(key)


def end_sessions(request, subject: str) -> int:
    """End every session of ``subject`` (``identity.subject``), on every node; return how many.

    For host apps, e.g. when an account is blocked.  If the current request's
    session is one of them it is ended too, so this request cannot write it
    back.  Requests of those sessions already running elsewhere are stopped
    by the check in :meth:`StoreSession.save`, up to a get/put window.  Ends
    ekn_saml's sessions only: it does **not** touch a host's own session.
    """
    session = _opened_session(request)
    if session is not None and session.get(SUBJECT_KEY) == subject:
        session.invalidate()
    return request.registry.getUtility(ISamlSessionFactory).end_sessions_of(subject)


class _DetachedSession(StoreSession):
    """An empty session that is never saved."""

    def save(self, request, response) -> None:
        return None


def detach_session(request) -> None:
    """Give ``request`` an empty ekn_saml session that is never read from or written to the store.

    For the page that reports a store outage: it must render without the
    store (the layout asks who is logged in) and must not show the user as
    logged in when the login could not be saved.  When that session is also
    the app's ``request.session`` (the opt-in session factory), that one is
    replaced too.
    """
    factory = request.registry.queryUtility(ISamlSessionFactory)
    if factory is None:
        return
    opened = _opened_session(request)
    detached = _DetachedSession(factory, request, None, None)
    request.__dict__[REQUEST_ATTR] = detached
    if opened is not None and request.__dict__.get("session") is opened:
        request.__dict__["session"] = detached


def session_tween_factory(handler, registry):
    """Save the request's ekn_saml session inside the exception-view tween (register it ``under=EXCVIEW``).

    Saving in a response callback, or in a tween over the exception view,
    would run outside exception handling, so a store outage there would
    become a bare 500; here it becomes the 503 page.  A consequence: a
    request that ends in an exception view (an error page, or a raised
    ``HTTPFound``) saves no session changes, so a failed request never
    leaves a half-made session.  A request that never opened the session
    costs nothing here; a host's own ``request.session`` is left to the host.
    """

    def session_tween(request):
        response = handler(request)
        session = _opened_session(request)
        if session is not None:
            session.save(request, response)
        return response

    return session_tween
