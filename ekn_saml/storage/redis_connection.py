# SPDX-License-Identifier: Apache-2.0
"""Building the Redis client of a store URL: one server (``redis://``) or a master found through Sentinel.

The store (:mod:`.redis`) only runs commands; everything about *where* they
go is here: the URL syntax of ``redis+sentinel://`` and ``rediss+sentinel://``
(:func:`parse_sentinel_url`, checked at startup by the settings, every
malformed URL refused with a stable :class:`~ekn_saml.errors.StoreUrlError`
code), the timeouts, and the retry policy on failover.

Sentinel URL syntax (documented in README.md and docs/scale-out.md)::

    redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/service[/db][?option=value&...]

* ``host[:port]`` – the sentinels, comma-separated, port 26379 by default;
  IPv6 addresses in brackets (``[::1]:26379``);
* ``service`` – the master's name in the sentinels' configuration
  (``sentinel monitor <service> ...``);
* ``db`` – the database number on the master, 0 by default;
* ``user``/``password`` – for the Redis master (and replica) servers;
* options: ``sentinel_username``, ``sentinel_password`` (when the sentinels
  themselves require AUTH), ``socket_timeout`` and ``socket_connect_timeout``
  (seconds, default 2), ``ssl_ca_certs`` (a CA file, ``rediss+sentinel``
  only).

``rediss+sentinel://`` uses TLS to the sentinels and to the master alike,
and verifies their certificates.  Reads and writes both go to the master:
sessions must read their own writes, which a replica does not promise.
"""

from __future__ import annotations

import enum
import functools
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ..errors import StoreUrlError

SENTINEL_SCHEMES = ("redis+sentinel", "rediss+sentinel")
DEFAULT_SENTINEL_PORT = 26379
# Short enough that a dead master turns a request into a 503 within seconds, not a hung worker;
# long enough for a loaded server on a LAN.
DEFAULT_TIMEOUT = 2.0
_MAX_TIMEOUT = 60.0


class SentinelUrlProblem(enum.StrEnum):
    """Why a ``redis+sentinel://`` URL is refused: the stable codes of the startup report."""

    NO_SENTINELS = "EKN-CFG-SENTINEL-001"  # no host before the path
    BAD_SENTINEL = "EKN-CFG-SENTINEL-002"  # a host that is empty, or a port that is not 1-65535
    DUPLICATE_SENTINEL = "EKN-CFG-SENTINEL-003"  # the same host:port twice
    NO_SERVICE = "EKN-CFG-SENTINEL-004"  # no master (service) name in the path
    BAD_DB = "EKN-CFG-SENTINEL-005"  # a database that is not a whole number 0-15, or more path than /service/db
    UNKNOWN_OPTION = "EKN-CFG-SENTINEL-006"  # a query option we do not know (a typo must not be ignored)
    DUPLICATE_OPTION = "EKN-CFG-SENTINEL-007"  # an option given twice
    BAD_TIMEOUT = "EKN-CFG-SENTINEL-008"  # a timeout that is not a number of seconds in (0, 60]
    TLS_OPTION_WITHOUT_TLS = "EKN-CFG-SENTINEL-009"  # ssl_ca_certs on redis+sentinel:// (no TLS)
    FRAGMENT = "EKN-CFG-SENTINEL-010"  # a #fragment: nothing reads it, so it is a mistake


_OPTIONS = ("sentinel_username", "sentinel_password", "socket_timeout", "socket_connect_timeout", "ssl_ca_certs")
_MAX_DB = 15  # Redis' default "databases 16"; a larger number is almost always a typo


@dataclass(frozen=True)
class SentinelUrl:
    """A parsed ``redis+sentinel://`` URL.  ``repr`` never shows the passwords."""

    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int = 0
    username: str | None = None
    password: str | None = None
    sentinel_username: str | None = None
    sentinel_password: str | None = None
    tls: bool = False
    ssl_ca_certs: str | None = None
    socket_timeout: float = DEFAULT_TIMEOUT
    socket_connect_timeout: float = DEFAULT_TIMEOUT

    def __repr__(self) -> str:
        hosts = ",".join(f"{h}:{p}" for h, p in self.sentinels)
        return f"SentinelUrl({'rediss' if self.tls else 'redis'}+sentinel://{hosts}/{self.service}/{self.db})"


def is_sentinel_url(url: str) -> bool:
    """Whether ``url`` names a master through Sentinel."""
    return urlsplit(url).scheme in SENTINEL_SCHEMES


def redacted(url: str) -> str:
    """``url`` without its passwords (userinfo and ``*_password`` options), for messages and logs."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rpartition("@")[2]
    query = "&".join(
        f"{name}=***" if "password" in name.lower() else f"{name}={value}"
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    )
    return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")


def _fail(problem: SentinelUrlProblem, url: str, detail: str) -> StoreUrlError:
    return StoreUrlError(problem.value, f"{detail} in {redacted(url)}")


def _sentinel_hosts(url: str, hostlist: str) -> tuple[tuple[str, int], ...]:
    if not hostlist:
        raise _fail(SentinelUrlProblem.NO_SENTINELS, url, "no sentinel host:port")
    found: list[tuple[str, int]] = []
    for item in hostlist.split(","):
        # urlsplit's .hostname/.port read one host; each of ours is split the same way
        host_port = urlsplit("//" + item.strip())
        try:
            host, port = host_port.hostname, host_port.port
        except ValueError:  # a port that is not a number, or out of range
            raise _fail(SentinelUrlProblem.BAD_SENTINEL, url, f"sentinel {item!r} has a bad port") from None
        if not host or host_port.username is not None or host_port.path:
            raise _fail(SentinelUrlProblem.BAD_SENTINEL, url, f"sentinel {item!r} is not host[:port]")
        address = (host, port or DEFAULT_SENTINEL_PORT)
        if port == 0:
            raise _fail(SentinelUrlProblem.BAD_SENTINEL, url, f"sentinel {item!r} has port 0")
        if address in found:
            raise _fail(SentinelUrlProblem.DUPLICATE_SENTINEL, url, f"sentinel {item!r} is listed twice")
        found.append(address)
    return tuple(found)


def _timeout(url: str, name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise _fail(SentinelUrlProblem.BAD_TIMEOUT, url, f"{name} is not a number of seconds") from None
    if not (math.isfinite(value) and 0 < value <= _MAX_TIMEOUT):
        raise _fail(SentinelUrlProblem.BAD_TIMEOUT, url, f"{name} must be more than 0 and at most {_MAX_TIMEOUT:g} s")
    return value


def parse_sentinel_url(url: str) -> SentinelUrl:
    """Parse a ``redis+sentinel://`` or ``rediss+sentinel://`` URL (syntax in the module docstring).

    Raises :class:`~ekn_saml.errors.StoreUrlError` with a
    :class:`SentinelUrlProblem` code for the first thing wrong; its message
    never contains a password.  Does **not** check that the hosts resolve,
    that the sentinels answer or that they know the service (that is the
    first operation's job: a store that is down at startup gives 503s, not a
    failed start), nor that ``ssl_ca_certs`` exists.
    """
    parts = urlsplit(url)
    if parts.scheme not in SENTINEL_SCHEMES:
        raise ValueError(f"not a sentinel URL: {parts.scheme}://")
    if parts.fragment:
        raise _fail(SentinelUrlProblem.FRAGMENT, url, "a #fragment")
    userinfo, _, hostlist = parts.netloc.rpartition("@")
    username = password = None
    if userinfo:
        user, has_password, secret = userinfo.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if has_password else None
    sentinels = _sentinel_hosts(url, hostlist)

    segments = parts.path.split("/")[1:]  # "/mymaster/0" -> ["mymaster", "0"]
    service = unquote(segments[0]) if segments else ""
    if not service:
        raise _fail(SentinelUrlProblem.NO_SERVICE, url, "no service (master) name")
    db = 0
    rest = segments[1:]
    if rest and rest[-1] == "":  # one trailing slash is harmless
        rest = rest[:-1]
    if len(rest) > 1:
        raise _fail(SentinelUrlProblem.BAD_DB, url, "more path than /service/db")
    if rest:
        if not (rest[0].isascii() and rest[0].isdigit() and int(rest[0]) <= _MAX_DB):
            raise _fail(SentinelUrlProblem.BAD_DB, url, f"the database must be 0-{_MAX_DB}")
        db = int(rest[0])

    options: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name not in _OPTIONS:
            raise _fail(
                SentinelUrlProblem.UNKNOWN_OPTION, url, f"unknown option {name!r} (known: {', '.join(_OPTIONS)})"
            )
        if name in options:
            raise _fail(SentinelUrlProblem.DUPLICATE_OPTION, url, f"option {name!r} given twice")
        options[name] = value
    tls = parts.scheme == "rediss+sentinel"
    if "ssl_ca_certs" in options and not tls:
        raise _fail(SentinelUrlProblem.TLS_OPTION_WITHOUT_TLS, url, "ssl_ca_certs without TLS (use rediss+sentinel://)")
    return SentinelUrl(
        sentinels=sentinels,
        service=service,
        db=db,
        username=username,
        password=password,
        sentinel_username=options.get("sentinel_username") or None,
        sentinel_password=options.get("sentinel_password") or None,
        tls=tls,
        ssl_ca_certs=options.get("ssl_ca_certs") or None,
        socket_timeout=_timeout(url, "socket_timeout", options.get("socket_timeout", str(DEFAULT_TIMEOUT))),
        socket_connect_timeout=_timeout(
            url, "socket_connect_timeout", options.get("socket_connect_timeout", str(DEFAULT_TIMEOUT))
        ),
    )


def _failover_retry() -> Any:
    """One more try, a short pause after a connection error or a timeout: the try that finds the new master.

    After a failover the pool may still hold a connection to the old master.
    If that master's process died, the pool sees the closed socket and
    reconnects before sending anything.  If its host went away or stalls
    (no FIN: a partition, a frozen VM), the command times out; if it came
    back as a replica, redis-py's Sentinel connection turns its ``READONLY``
    answer into a connection error.  Either way the connection is dropped,
    and the retry's connect asks the sentinels for the master again.

    Retrying the operations that are not idempotent is safe, though not
    free: if the first try was applied and only its answer was lost (a slow
    master that did not fail over), ``add`` answers "already there" (the
    login is refused as a replay, EKN-RPL-001) and ``take`` answers "absent"
    (refused as an unknown request, EKN-REQ-002); ``increment`` counts twice
    (a rate limit a little early).  A retry can refuse a login, never accept
    one twice.  A first try sent to a master that then lost the failover is
    lost with that master, and the retry applies it on the new one.
    """
    from redis.backoff import ConstantBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from redis.retry import Retry

    return Retry(ConstantBackoff(0.05), retries=1, supported_errors=(RedisConnectionError, RedisTimeoutError))


def _no_retry() -> Any:
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return Retry(NoBackoff(), retries=0)


@functools.cache
def _connection_classes() -> tuple[type, type]:
    """redis-py's Sentinel connections, made to ask the sentinels again on *every* reconnect.

    redis-py asks the sentinels for the master only in ``connect()``; a
    command's retry reconnects through ``connect_check_health()``, which goes
    back to the address the connection had, the old master
    (redis/redis-py#3874, open for 7.x and 8.1).  Asking here too costs one
    more sentinel round trip per new connection, which the pool makes rarely.
    """
    from redis.connection import SSLConnection
    from redis.sentinel import SentinelManagedConnection

    class FailoverConnection(SentinelManagedConnection):
        def connect_check_health(self, check_health: bool = True, retry_socket_connect: bool = True) -> None:
            if not self._sock and self.connection_pool.is_master:
                self.host, self.port = self.connection_pool.get_master_address()
            super().connect_check_health(check_health=check_health, retry_socket_connect=retry_socket_connect)

    class FailoverSSLConnection(FailoverConnection, SSLConnection):
        pass

    return FailoverConnection, FailoverSSLConnection


def sentinel_client(parsed: SentinelUrl) -> Any:
    """A ``redis.Redis`` for the master of ``parsed.service``; it asks the sentinels on every new connection.

    Does **not** connect: the first command does.
    """
    from redis.sentinel import Sentinel

    plain, with_tls = _connection_classes()
    tls: dict[str, Any] = {}
    if parsed.tls:
        tls = {"ssl": True, "ssl_cert_reqs": "required"}
        if parsed.ssl_ca_certs:
            tls["ssl_ca_certs"] = parsed.ssl_ca_certs
    timeouts = {"socket_timeout": parsed.socket_timeout, "socket_connect_timeout": parsed.socket_connect_timeout}
    # One try per sentinel: discover_master already moves on to the next one, and redis-py's default
    # (ten tries with backoff, per sentinel) made a dead first sentinel cost seconds on every lookup.
    sentinel_kwargs: dict[str, Any] = {**timeouts, **tls, "retry": _no_retry()}
    if parsed.sentinel_password is not None:
        sentinel_kwargs["password"] = parsed.sentinel_password
    if parsed.sentinel_username is not None:
        sentinel_kwargs["username"] = parsed.sentinel_username
    manager = Sentinel(list(parsed.sentinels), sentinel_kwargs=sentinel_kwargs)
    return manager.master_for(
        parsed.service,
        connection_class=with_tls if parsed.tls else plain,
        db=parsed.db,
        username=parsed.username,
        password=parsed.password,
        retry=_failover_retry(),
        health_check_interval=30,
        **timeouts,
        **tls,
    )


def client_from_url(url: str) -> Any:
    """The ``redis.Redis`` client for a store URL: ``redis://``, ``rediss://``, ``unix://`` or a sentinel URL.

    Raises ValueError (a :class:`~ekn_saml.errors.StoreUrlError` for a
    sentinel URL) for a URL it cannot use.  Does **not** connect.
    """
    if is_sentinel_url(url):
        return sentinel_client(parse_sentinel_url(url))
    import redis

    # as before Sentinel support: redis-py's own retry policy for one server
    return redis.Redis.from_url(
        url,
        socket_timeout=DEFAULT_TIMEOUT,
        socket_connect_timeout=DEFAULT_TIMEOUT,
        retry_on_timeout=False,
        health_check_interval=30,
    )
