# SPDX-License-Identifier: Apache-2.0
"""Load test: N simulated users log in and out, over and over, against a real server.

Run it with ``make load`` (or ``python bench/load.py --help``).  For each
backend in turn (SQLite, then Redis) it:

1. writes an ini for the demo app with the embedded development IdP and
   that store, with 3072-bit test keys made for the run (``var/load/``);
2. serves it with waitress on a free port of 127.0.0.1, in its own process
   (``pserve``), with ``--threads`` worker threads;
3. runs ``--users`` client threads for ``--seconds`` seconds; each repeats
   the whole login of a browser: AuthnRequest (GET /login/<method>) ->
   development IdP page -> IdP response -> POST to the ACS -> the
   logged-in page -> POST /logout -> the page again (must be logged out);
4. stops the server and reports.

Counted: every HTTP request and its latency; every response that is not
2xx/3xx (and the 5xx among them); a **lost session** (the ACS said yes, the
next page did not show the user); a **surviving session** (still logged in
after logout); transport errors (refused, timed out).  Login latency is from
the AuthnRequest to the logged-in page, the six requests of one login.

The loops are bounded: each user stops at ``--seconds`` or after
``--max-logins`` logins; each request times out after 30 s; a user thread
that is still running 60 s after the end is reported and abandoned.

The last line of output is one JSON object::

    {"load": {"sqlite": {"users": .., "seconds": .., "logins_per_s": .., "p99_ms": ..,
                         "http_5xx": .., "lost_sessions": .., ...}, "redis": {...}}}

The development IdP runs in the same process as the SP, so the server also
does the IdP's work (signing and encrypting every response): the figures
are a lower bound for the SP alone.  Client and server share the machine.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field

import requests

from ekn_saml.testing import development_settings, free_port, start_pserve, stop_process, wait_until_serving, write_ini

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REQUEST_TIMEOUT = 30.0
JOIN_GRACE = 60.0

# (method, persona, display name): the three login methods, spread over the users
PERSONAS = (
    ("bankid", "karin", "Karin Karlsson"),
    ("mobilt_bankid", "anna", "Anna Andersson"),
    ("expisoft", "eva", "Eva Exportsson"),
)

_DEVIDP_ACTION = re.compile(r'<form class="devidp" method="post" action="([^"]+)"')
_TOKEN = re.compile(r'name="token" value="([^"]+)"')
_AUTOPOST_ACTION = re.compile(r'<form class="autopost" method="post" action="([^"]+)"')
_SAML_RESPONSE = re.compile(r'name="SAMLResponse" value="([^"]+)"')
_RELAY_STATE = re.compile(r'name="RelayState" value="([^"]*)"')
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_DISPLAY_NAME = re.compile(r'data-testid="display-name">([^<]+)<')


class FlowError(Exception):
    """The page was not what a browser would have needed to go on."""


@dataclass
class UserStats:
    logins: int = 0
    requests: int = 0
    request_ms: list[float] = field(default_factory=list)
    login_ms: list[float] = field(default_factory=list)
    http_errors: dict[int, int] = field(default_factory=dict)  # status -> count, every non-2xx/3xx
    lost_sessions: int = 0
    surviving_sessions: int = 0
    flow_errors: int = 0
    transport_errors: int = 0
    examples: list[str] = field(default_factory=list)

    def note(self, what: str) -> None:
        if len(self.examples) < 5:
            self.examples.append(what[:300])


def _pick(pattern: re.Pattern, text: str, what: str) -> str:
    match = pattern.search(text)
    if not match:
        raise FlowError(f"no {what} on the page")
    return html.unescape(match.group(1))


class SimulatedUser:
    def __init__(self, base: str, index: int, stats: UserStats) -> None:
        self.base = base
        self.method, self.persona, self.name = PERSONAS[index % len(PERSONAS)]
        self.stats = stats
        self.http = requests.Session()

    def _send(self, method: str, url: str, expect: int | tuple[int, ...], **kw) -> requests.Response:
        url = url if url.startswith("http") else self.base + url
        started = time.perf_counter()
        response = self.http.request(method, url, allow_redirects=False, timeout=REQUEST_TIMEOUT, **kw)
        self.stats.request_ms.append((time.perf_counter() - started) * 1000)
        self.stats.requests += 1
        if not 200 <= response.status_code < 400:
            self.stats.http_errors[response.status_code] = self.stats.http_errors.get(response.status_code, 0) + 1
            body = " ".join(response.text.split())[-200:]
            self.stats.note(f"{method} {url} -> {response.status_code}: {body}")
        if response.status_code not in (expect if isinstance(expect, tuple) else (expect,)):
            raise FlowError(f"{method} {url}: expected {expect}, got {response.status_code}")
        return response

    def one_login(self) -> None:
        started = time.perf_counter()
        to_idp = self._send("GET", f"/login/{self.method}", 302)
        page = self._send("GET", to_idp.headers["Location"], 200).text
        answer = self._send(
            "POST",
            _pick(_DEVIDP_ACTION, page, "IdP form"),
            200,
            data={"token": _pick(_TOKEN, page, "IdP token"), "persona": self.persona, "outcome": "success"},
        ).text
        acs = self._send(
            "POST",
            _pick(_AUTOPOST_ACTION, answer, "ACS form"),
            302,
            data={
                "SAMLResponse": _pick(_SAML_RESPONSE, answer, "SAMLResponse"),
                "RelayState": _pick(_RELAY_STATE, answer, "RelayState"),
            },
        )
        landing = self.http.request("GET", self.base + "/mina-sidor", allow_redirects=False, timeout=REQUEST_TIMEOUT)
        self.stats.requests += 1
        if landing.status_code != 200 or _DISPLAY_NAME.search(landing.text) is None:
            if 200 <= landing.status_code < 400:
                self.stats.lost_sessions += 1
                self.stats.note(
                    f"lost session: ACS -> {acs.headers.get('Location')}, then /mina-sidor -> {landing.status_code}"
                )
                return
            raise FlowError(f"/mina-sidor after login -> {landing.status_code}")
        self.stats.login_ms.append((time.perf_counter() - started) * 1000)
        self.stats.request_ms.append(landing.elapsed.total_seconds() * 1000)
        if html.unescape(_DISPLAY_NAME.search(landing.text).group(1)).strip() != self.name:
            raise FlowError("logged in as somebody else")
        self.stats.logins += 1
        self._send("POST", "/logout", 302, data={"csrf_token": _pick(_CSRF, landing.text, "CSRF token")})
        after = self._send("GET", "/mina-sidor", (200, 302))
        if after.status_code == 200 or "/login" not in after.headers.get("Location", ""):
            self.stats.surviving_sessions += 1
            self.stats.note(f"still logged in after logout: /mina-sidor -> {after.status_code}")

    def run(self, deadline: float, max_logins: int) -> None:
        attempts = 0
        while time.monotonic() < deadline and attempts < max_logins:
            attempts += 1
            try:
                self.one_login()
            except FlowError as exc:
                self.stats.flow_errors += 1
                self.stats.note(str(exc))
                self.http.cookies.clear()
            except requests.RequestException as exc:
                self.stats.transport_errors += 1
                self.stats.note(f"{exc.__class__.__name__}: {exc}")
                self.http.close()
                self.http = requests.Session()
        self.http.close()


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(-(-q * len(ordered) // 1)) - 1))  # nearest rank
    return round(ordered[rank], 1)


class Server:
    """``pserve`` of the ini in its own process; always stopped by :meth:`stop`."""

    def __init__(self, ini: str, port: int, log_path: str) -> None:
        self.port = port
        self.log_path = log_path
        self.proc = start_pserve(ini, log_path, cwd=ROOT)

    def wait_until_serving(self, timeout: float = 90.0) -> None:
        wait_until_serving(
            self.proc, f"http://127.0.0.1:{self.port}/saml/metadata", timeout=timeout, log_path=self.log_path
        )

    def cpu_seconds(self) -> float | None:
        """User + system CPU time of the server so far (Linux /proc; None elsewhere)."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        stop_process(self.proc, timeout=15)

    def logged_problems(self) -> int:
        """Lines the server logged at ERROR or worse (store outages, unexpected errors, tracebacks)."""
        with open(self.log_path, errors="replace") as fh:
            return sum(1 for line in fh if " ERROR " in line or " CRITICAL " in line or line.startswith("Traceback"))


def run_backend(name: str, store_url: str, prefix: str, args, workdir: str, keys: str) -> dict:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # the load clients speak plain HTTP and would not send Secure cookies over it
    # and all 50 simulated users share 127.0.0.1, so the per-address login-start limit is off
    settings = development_settings(
        sp_base=base,
        keys_dir=keys,
        store_url=store_url,
        cookie_secure=False,
        store__key_prefix=prefix,
        security__login_start_limit="0",
    )
    ini = write_ini(
        os.path.join(workdir, f"{name}.ini"),
        settings,
        port=port,
        threads=args.threads,
        server={"connection_limit": str(max(100, 2 * args.users))},
    )
    server = Server(ini, port, os.path.join(workdir, f"{name}-server.log"))
    try:
        server.wait_until_serving()
        warmup = UserStats()
        SimulatedUser(base, 0, warmup).one_login()  # fails loudly if the flow itself is broken
        all_stats = [UserStats() for _ in range(args.users)]
        users = [SimulatedUser(base, i, s) for i, s in enumerate(all_stats)]
        cpu_before = server.cpu_seconds()
        started = time.monotonic()
        deadline = started + args.seconds
        threads = [
            threading.Thread(target=u.run, args=(deadline, args.max_logins), name=f"user-{i}", daemon=True)
            for i, u in enumerate(users)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=max(0.0, deadline + JOIN_GRACE - time.monotonic()))
        elapsed = time.monotonic() - started
        cpu_after = server.cpu_seconds()
        stuck = sum(1 for t in threads if t.is_alive())
    finally:
        server.stop()
    problems_logged = server.logged_problems()

    merged = UserStats()
    for s in all_stats:
        merged.logins += s.logins
        merged.requests += s.requests
        merged.request_ms += s.request_ms
        merged.login_ms += s.login_ms
        for status, count in s.http_errors.items():
            merged.http_errors[status] = merged.http_errors.get(status, 0) + count
        merged.lost_sessions += s.lost_sessions
        merged.surviving_sessions += s.surviving_sessions
        merged.flow_errors += s.flow_errors
        merged.transport_errors += s.transport_errors
        for example in s.examples:
            merged.note(example)
    return {
        "users": args.users,
        "seconds": round(elapsed, 1),
        "server_threads": args.threads,
        # 1.0 = one core busy all the time; one Python process cannot go far past it (GIL)
        "server_cpu_cores": round((cpu_after - cpu_before) / elapsed, 2)
        if None not in (cpu_before, cpu_after)
        else None,
        "logins": merged.logins,
        "logins_per_s": round(merged.logins / elapsed, 2) if elapsed else 0.0,
        "p50_ms": _percentile(merged.login_ms, 0.50),
        "p95_ms": _percentile(merged.login_ms, 0.95),
        "p99_ms": _percentile(merged.login_ms, 0.99),
        "requests": merged.requests,
        "request_p50_ms": _percentile(merged.request_ms, 0.50),
        "request_p99_ms": _percentile(merged.request_ms, 0.99),
        "http_errors": sum(merged.http_errors.values()),
        "http_errors_by_status": {str(k): v for k, v in sorted(merged.http_errors.items())},
        "http_5xx": sum(v for k, v in merged.http_errors.items() if k >= 500),
        "lost_sessions": merged.lost_sessions,
        "surviving_sessions": merged.surviving_sessions,
        "flow_errors": merged.flow_errors,
        "transport_errors": merged.transport_errors,
        "stuck_users": stuck,
        "server_errors_logged": problems_logged,
        "examples": merged.examples,
    }


def _redis_problem(url: str) -> str | None:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
        return None
    except redis.RedisError as exc:
        return f"Redis at {url} does not answer ({exc}); run .ci/ensure-redis"
    finally:
        client.close()


def _drop_redis_prefix(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        for i in range(0, len(keys), 1000):
            client.delete(*keys[i : i + 1000])
    finally:
        client.close()


def _print_report(name: str, r: dict) -> None:
    if "error" in r:
        print(f"[{name}] NOT RUN: {r['error']}")
        return
    print(
        f"[{name}] {r['users']} users, {r['seconds']} s, server threads {r['server_threads']} "
        f"using {r['server_cpu_cores']} cores: "
        f"{r['logins']} logins = {r['logins_per_s']} logins/s; login latency p50 {r['p50_ms']} ms, "
        f"p95 {r['p95_ms']} ms, p99 {r['p99_ms']} ms; {r['requests']} requests (p50 {r['request_p50_ms']} ms, "
        f"p99 {r['request_p99_ms']} ms)"
    )
    print(
        f"[{name}] non-2xx/3xx: {r['http_errors']} {r['http_errors_by_status']}, 5xx: {r['http_5xx']}, "
        f"lost sessions: {r['lost_sessions']}, sessions surviving logout: {r['surviving_sessions']}, flow errors: {r['flow_errors']}, transport errors: "
        f"{r['transport_errors']}, stuck users: {r['stuck_users']}, server ERROR lines: {r['server_errors_logged']}"
    )
    for example in r["examples"]:
        print(f"[{name}]   e.g. {example}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50, help="concurrent simulated users (default 50)")
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds per backend (default 60)")
    parser.add_argument("--backends", default="sqlite,redis", help="comma-separated, in order (default sqlite,redis)")
    parser.add_argument("--threads", type=int, default=50, help="waitress worker threads (default 50: one per user)")
    parser.add_argument("--max-logins", type=int, default=100_000, help="bound on logins per user (default 100000)")
    parser.add_argument("--redis-url", default=os.environ.get("EKN_LOAD_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--keep", action="store_true", help="keep var/load/<run>/ (ini, server logs, keys)")
    args = parser.parse_args(argv)
    if args.users < 1 or args.seconds <= 0 or args.threads < 1 or args.max_logins < 1:
        parser.error("--users, --seconds, --threads and --max-logins must be positive")

    from ekn_saml.keygen import write_key_pair
    from ekn_saml.server_keys import write_key_file
    from ekn_saml.testing import DEV_KEY_STEMS, SERVER_KEYS_FILE

    run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]
    workdir = os.path.join(ROOT, "var", "load", run_id)
    keys = os.path.join(workdir, "keys")
    for stem in DEV_KEY_STEMS:
        write_key_pair(keys, stem, f"ekn_saml load test {stem} (TEST ONLY)")  # 3072 bits, as in production
    write_key_file(os.path.join(keys, SERVER_KEYS_FILE))
    print(f"load test: {args.users} users x {args.seconds:g} s per backend; work dir {workdir}", flush=True)

    results: dict[str, dict] = {}
    failed = False
    try:
        for name in [b.strip() for b in args.backends.split(",") if b.strip()]:
            if name == "sqlite":
                store_url, prefix = "sqlite:///" + os.path.join(workdir, "state.sqlite"), "ekn_saml:"
            elif name == "redis":
                problem = _redis_problem(args.redis_url)
                if problem:
                    results[name] = {"error": problem}
                    failed = True
                    _print_report(name, results[name])
                    continue
                store_url, prefix = args.redis_url, f"ekn-load:{run_id}:"
            else:
                parser.error(f"unknown backend {name!r} (sqlite, redis)")
            print(f"[{name}] running against {store_url} ...", flush=True)
            try:
                results[name] = run_backend(name, store_url, prefix, args, workdir, keys)
            except (RuntimeError, FlowError, requests.RequestException) as exc:
                results[name] = {"error": f"{exc.__class__.__name__}: {exc}"}
            finally:
                if name == "redis":
                    _drop_redis_prefix(args.redis_url, prefix)
            _print_report(name, results[name])
            r = results[name]
            failed = (
                failed
                or "error" in r
                or any(
                    r[k]
                    for k in (
                        "http_5xx",
                        "lost_sessions",
                        "surviving_sessions",
                        "flow_errors",
                        "transport_errors",
                        "stuck_users",
                    )
                )
            )
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    summary = {
        name: (
            r
            if "error" in r
            else {
                k: r[k]
                for k in (
                    "users",
                    "seconds",
                    "logins",
                    "logins_per_s",
                    "p50_ms",
                    "p95_ms",
                    "p99_ms",
                    "http_errors",
                    "http_5xx",
                    "lost_sessions",
                    "surviving_sessions",
                    "flow_errors",
                    "transport_errors",
                    "server_cpu_cores",
                )
            }
        )
        for name, r in results.items()
    }
    print(json.dumps({"load": summary}, separators=(", ", ": ")))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
