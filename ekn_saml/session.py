# SPDX-License-Identifier: Apache-2.0
"""Server-side sessions on the state store: the cookie holds only a random id.

No personal data ever reaches the client.  Idle and absolute timeouts are
enforced here, on the server, whatever the cookie says.  The id is rotated
by :meth:`StoreSession.rotate` (called at login), and every session is
indexed by its identity's subject so that all of them can be ended at once.
"""
from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

from pyramid.interfaces import ISession, ISessionFactory
from zope.interface import implementer, provider

from .storage import StateStore

SESSIONS = "session"
SUBJECT_INDEX = "session_by_subject"
_TOUCH_EVERY = 60  # seconds between writes of an unchanged session (idle timer refresh)


def _store_key(session_id: str) -> str:
    # The store holds a hash: a copy of the store does not hand out live cookies.
    return hashlib.sha256(session_id.encode()).hexdigest()


@implementer(ISession)
class StoreSession(dict):
    """A Pyramid ISession whose data lives in a :class:`StateStore`."""

    def __init__(self, factory: "StoreSessionFactory", request, session_id: str | None, record: dict | None) -> None:
        super().__init__((record or {}).get("data", {}))
        now = time.time()
        self._factory = factory
        self._request = request
        self._id = session_id
        self.new = record is None
        self.created = (record or {}).get("created", now)
        self._accessed = (record or {}).get("accessed", now)
        self._changed = False
        self._old_ids: list[str] = []

    # --- ISession ---
    def changed(self) -> None:
        self._changed = True

    def invalidate(self) -> None:
        """Drop the data and the id; a new id is issued if anything is stored later."""
        if self._id:
            self._old_ids.append(self._id)
        self._id = None
        super().clear()
        self.created = time.time()
        self._changed = True

    def rotate(self) -> None:
        """Keep the data under a new id (session fixation defence at login)."""
        if self._id:
            self._old_ids.append(self._id)
        self._id = None
        self._changed = True

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
        """Persist and set the cookie; called by :func:`session_tween_factory`."""
        factory = self._factory
        for old in self._old_ids:
            factory.store.delete(SESSIONS, _store_key(old))
        now = time.time()
        if not self._changed and (self.new or now - self._accessed < _TOUCH_EVERY):
            return
        if not dict.__len__(self):
            if self._old_ids or self._id:
                response.delete_cookie(factory.cookie_name, path="/")
            if self._id:
                factory.store.delete(SESSIONS, _store_key(self._id))
            return
        if self._id is None:
            self._id = secrets.token_urlsafe(32)
        factory.store.put(
            SESSIONS,
            _store_key(self._id),
            {"data": dict(self), "created": self.created, "accessed": now},
            factory.ttl_for(self.created, now),
        )
        subject = self.get("ekn_saml.subject")
        if subject:
            factory.store.index_add(SUBJECT_INDEX, subject, _store_key(self._id), factory.absolute_timeout)
        factory.set_cookie(request, response, self._id)


@provider(ISessionFactory)
class StoreSessionFactory:
    """Builds :class:`StoreSession` objects; register with ``config.set_session_factory``."""

    def __init__(
        self,
        store: StateStore,
        *,
        cookie_name: str = "ekn_session",
        secure: bool = True,
        idle_timeout: int = 1800,
        absolute_timeout: int = 8 * 3600,
    ) -> None:
        self.store = store
        self.cookie_name = cookie_name
        self.secure = secure
        self.idle_timeout = idle_timeout
        self.absolute_timeout = absolute_timeout

    def ttl_for(self, created: float, now: float) -> int:
        return max(1, int(min(self.idle_timeout, created + self.absolute_timeout - now)))

    def __call__(self, request) -> StoreSession:
        session_id = request.cookies.get(self.cookie_name)
        record = None
        if session_id and len(session_id) < 100:
            record = self.store.get(SESSIONS, _store_key(session_id))
            now = time.time()
            if record is not None and (
                now - record.get("accessed", 0) > self.idle_timeout
                or now - record.get("created", 0) > self.absolute_timeout
            ):
                self.store.delete(SESSIONS, _store_key(session_id))
                record = None
        if record is None:
            session_id = None
        return StoreSession(self, request, session_id, record)

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

    def end_sessions_of(self, subject: str) -> int:
        """End every session of ``subject`` (an :attr:`Identity.subject`); return how many."""
        keys = self.store.index_members(SUBJECT_INDEX, subject)
        for key in keys:
            self.store.delete(SESSIONS, key)
            self.store.index_discard(SUBJECT_INDEX, subject, key)
        return len(keys)


def session_tween_factory(handler, registry):
    """Save the session inside the exception-view tween.

    Saving in a response callback would run outside exception handling, so a
    store outage there would become a bare 500; here it becomes the 503 page.
    """

    def session_tween(request):
        response = handler(request)
        session = request.__dict__.get("session")
        if isinstance(session, StoreSession):
            session.save(request, response)
        return response

    return session_tween
