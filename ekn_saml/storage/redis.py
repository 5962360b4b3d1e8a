# SPDX-License-Identifier: Apache-2.0
"""Redis: state shared by several nodes."""

from __future__ import annotations

import redis as redis_lib

from ..errors import StoreUnavailableError
from .base import StateStore
from .redis_connection import client_from_url

# write_batch as one script: KEYS[i] is the i-th write's key, ARGV holds each
# write's operation and its arguments in turn.  The same commands as the
# single methods (SET EX [NX], DEL, SADD + EXPIRE GT/NX, SREM); the answer is
# one number per write (an add: 1 if it set the key).
_BATCH_SCRIPT = """
local answers = {}
local a = 1
for i, key in ipairs(KEYS) do
  local op = ARGV[a]
  answers[i] = 0
  if op == 'put' then
    redis.call('SET', key, ARGV[a + 1], 'EX', ARGV[a + 2])
    a = a + 3
  elseif op == 'add' then
    if redis.call('SET', key, ARGV[a + 1], 'EX', ARGV[a + 2], 'NX') then answers[i] = 1 end
    a = a + 3
  elseif op == 'delete' then
    redis.call('DEL', key)
    a = a + 1
  elseif op == 'index_add' then
    redis.call('SADD', key, ARGV[a + 1])
    redis.call('EXPIRE', key, ARGV[a + 2], 'GT')
    redis.call('EXPIRE', key, ARGV[a + 2], 'NX')
    a = a + 3
  elseif op == 'index_discard' then
    redis.call('SREM', key, ARGV[a + 1])
    a = a + 2
  else
    return redis.error_reply('unknown store write ' .. tostring(op))
  end
end
return answers
"""


class RedisStateStore(StateStore):
    """State in Redis, every key under ``key_prefix`` so apps can share a server.

    TTLs are Redis' own (``SET … EX``), so expiry needs no clock agreement
    between nodes.  :meth:`add` is ``SET NX EX`` and :meth:`take` is
    ``GETDEL`` (Redis >= 6.2): both single atomic commands; :meth:`increment`
    is ``SET NX EX`` + ``INCR`` in one ``MULTI``/``EXEC``; a :meth:`write_batch`
    is one Lua script (``EVALSHA``, loaded again on ``NOSCRIPT``): one round
    trip, atomic.  The client
    reconnects by itself, so logins work again when the server comes back.
    Which server and how (one server, or the master found through Sentinel,
    timeouts, the retry on failover): :mod:`.redis_connection`.
    """

    def __init__(self, client: redis_lib.Redis, *, key_prefix: str = "ekn_saml:") -> None:
        self._r = client
        self._prefix = key_prefix
        # only its SHA-1 is computed here: building a store must not connect
        self._batch = client.register_script(_BATCH_SCRIPT)

    @classmethod
    def from_url(cls, url: str, *, key_prefix: str = "ekn_saml:") -> RedisStateStore:
        return cls(client_from_url(url), key_prefix=key_prefix)

    # Key layout: ``<prefix><ns>:<key>`` for values and ``<prefix><ns>%idx:<key>``
    # for index sets.  ``%`` and ``:`` in the namespace are percent-escaped, so
    # the namespace always ends at the first ``:`` after the prefix and never
    # ends in ``%idx``: ("a:b", "c") cannot alias ("a", "b:c"), and a value
    # cannot collide with an index set of the same name (WRONGTYPE), just as
    # in the other backends.  Ordinary namespaces are unchanged by escaping.
    @staticmethod
    def _ns(namespace: str) -> str:
        return namespace.replace("%", "%25").replace(":", "%3A")

    def _k(self, namespace: str, key: str) -> str:
        return f"{self._prefix}{self._ns(namespace)}:{key}"

    def _ik(self, namespace: str, index_key: str) -> str:
        return f"{self._prefix}{self._ns(namespace)}%idx:{index_key}"

    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except redis_lib.RedisError as exc:
            raise StoreUnavailableError(f"redis store: {exc.__class__.__name__}: {exc}") from exc

    def put(self, namespace, key, value, ttl):
        self._call(self._r.set, self._k(namespace, key), self._encode(value), ex=self._check_ttl(ttl))

    def add(self, namespace, key, value, ttl) -> bool:
        return bool(
            self._call(self._r.set, self._k(namespace, key), self._encode(value), ex=self._check_ttl(ttl), nx=True)
        )

    def get(self, namespace, key):
        return self._decode(self._call(self._r.get, self._k(namespace, key)))

    def take(self, namespace, key):
        return self._decode(self._call(self._r.getdel, self._k(namespace, key)))

    def delete(self, namespace, key):
        self._call(self._r.delete, self._k(namespace, key))

    def increment(self, namespace, key, ttl) -> int:
        k = self._k(namespace, key)
        ttl = self._check_ttl(ttl)
        # MULTI/EXEC: the counter is made with its TTL only if absent (SET NX
        # EX), then INCR, which keeps the TTL: a fixed window, atomically.
        pipe = self._r.pipeline(transaction=True)
        pipe.set(k, 0, ex=ttl, nx=True)
        pipe.incr(k)
        _created, count = self._call(pipe.execute)
        return int(count)

    def _queue_index_add(self, pipe, k: str, member: str, ttl: int) -> None:
        pipe.sadd(k, member)
        # never shorten the life of a set another member still needs
        pipe.expire(k, ttl, gt=True)
        pipe.expire(k, ttl, nx=True)

    def index_add(self, namespace, index_key, member, ttl):
        pipe = self._r.pipeline(transaction=True)
        self._queue_index_add(pipe, self._ik(namespace, index_key), member, self._check_ttl(ttl))
        self._call(pipe.execute)

    def write_batch(self, writes):
        # One server-side script (EVALSHA; redis-py loads it again on
        # NOSCRIPT, e.g. after a restart or SCRIPT FLUSH): one command and one
        # round trip for the whole batch, where a MULTI/EXEC pipeline packs
        # and parses every command (18 for a login's ACS) on this side.  A
        # script runs atomically, as MULTI/EXEC does.
        for write in writes:
            self._check_write(write)
        if not writes:
            return []
        keys, args = [], []
        for write in writes:
            if write.op in ("put", "add"):
                keys.append(self._k(write.namespace, write.key))
                args += [write.op, self._encode(write.value), write.ttl]
            elif write.op == "delete":
                keys.append(self._k(write.namespace, write.key))
                args.append("delete")
            else:
                keys.append(self._ik(write.namespace, write.key))
                args += [write.op, write.member] + ([write.ttl] if write.op == "index_add" else [])
        answers = self._call(self._batch, keys=keys, args=args)
        return [bool(answer) if w.op == "add" else None for w, answer in zip(writes, answers, strict=True)]

    def index_members(self, namespace, index_key):
        raw = self._call(self._r.smembers, self._ik(namespace, index_key))
        return sorted(m.decode() if isinstance(m, bytes) else m for m in raw)

    def index_discard(self, namespace, index_key, member):
        self._call(self._r.srem, self._ik(namespace, index_key), member)

    def ping(self):
        self._call(self._r.ping)

    def close(self):
        self._r.close()
