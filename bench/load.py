# SPDX-License-Identifier: Apache-2.0
"""Load test: N simulated users log in and out, over and over, against a real SP server.

Run it with ``make load`` (or ``python bench/load.py --help``).  For each
backend in turn (SQLite, then Redis) it:

1. writes two inis for the demo app from the same settings, with 3072-bit
   test keys made for the run (``var/load/``): the **SP** (the measured
   server: that store, and ``pyramid.includes = bench.cpu_probe``) and the
   **IdP** (the development IdP's routes, reached at another origin through
   ``ekn_saml.devidp.base_url``; its own SQLite file, so that its writes do
   not load the measured store);
2. serves each with waitress on a free port of 127.0.0.1, each in its own
   process (``pserve``), with ``--threads`` worker threads;
3. runs ``--users`` client threads for ``--seconds`` seconds; each repeats
   the whole login of a browser, sending every request to the server whose
   site it is (one cookie jar per site, as a browser keeps them):
   AuthnRequest (SP: GET /login/<method>) -> the development IdP's page
   (IdP) -> its signed and encrypted response, answering the SP's own
   request ID (IdP) -> POST to the ACS (SP) -> the logged-in page (SP) ->
   POST /logout (SP) -> the page again, which must be logged out (SP);
4. stops both servers and reports.

So the SP process does only the SP's work: the IdP's signing and
encryption (about 43 ms of CPU per login when it ran inside the SP) is in
the other process.  Both servers and the client still share the machine's
cores, so ``sp_logins_per_s`` is also bounded by the IdP and the client;
``sp_cpu_ms_per_login`` is not, and ``sp_logins_per_cpu_s`` (its inverse)
is what one SP process with a core to itself could serve.

Counted: every HTTP request and its latency, by kind; every response that
is not 2xx/3xx (and the 5xx among them); a **lost session** (the ACS said
yes, the next page did not show the user); a **surviving session** (still
logged in after logout); transport errors (refused, timed out).  Login
latency is from the AuthnRequest to the logged-in page, the six requests of
one login (two of them to the IdP).

The SP's CPU, over the measured window:

* ``sp_cpu_ms_per_login``: the SP process's user + system CPU time, read
  from ``/proc/<pid>/stat`` (Linux; clock ticks, so +-10 ms over the
  window), divided by the logins completed;
* ``sp_cpu_ms_per_login_by_phase``: the bench include ``bench/cpu_probe.py``
  sums each request's ``time.thread_time`` in an outermost tween, by the
  ``X-Bench-Phase`` header the client sends: ``start`` (GET /login/<method>),
  ``acs`` (POST /saml/acs[/orgid]), ``landing`` (the logged-in page),
  ``logout`` (POST /logout and the page after it); ``other`` is the process
  total minus those (waitress's main thread: accepting, HTTP parsing,
  writing; the router outside the tweens), and ``sp_cpu_phases_cover`` is
  the share the phases explain.  Requests of logins that failed half-way
  are in their phases too; everything is divided by completed logins.

The loops are bounded: each user stops at ``--seconds`` or after
``--max-logins`` logins; each request times out after 30 s; a user thread
that is still running 60 s after the end is reported and abandoned.

The last line of output is one JSON object, per backend::

    {"load": {"sqlite": {"users": .., "seconds": .., "logins": .., "logins_per_s": .., "p99_ms": ..,
                         "http_5xx": .., "lost_sessions": .., ...,
                         "sp_logins_per_s": .., "sp_cpu_ms_per_login": ..,
                         "sp_cpu_ms_per_login_by_phase": {"start": .., "acs": .., "landing": ..,
                                                          "logout": .., "other": ..},
                         "sp_request_ms": {"start": {"p50": .., "p99": ..}, "acs": .., "landing": ..,
                                           "logout": .., "after_logout": ..}, ...},
              "redis": {...}}}

``logins_per_s`` is kept for comparison with earlier runs; it now equals
``sp_logins_per_s`` (the logins completed per second of the run).
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
from urllib.parse import urljoin

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

# what each request of a login is; the SP's kinds are sent with X-Bench-Phase (bench/cpu_probe.py)
SP_KINDS = ("start", "acs", "landing", "logout", "after_logout")
IDP_KINDS = ("idp_page", "idp_answer")
# the phases reported: the logout phase is the POST and the page after it
PHASE_OF_KIND = {"start": "start", "acs": "acs", "landing": "landing", "logout": "logout", "after_logout": "logout"}
PHASES = ("start", "acs", "landing", "logout")
PHASE_HEADER = "X-Bench-Phase"
CPU_PROBE_PATH = "/_bench/cpu"

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
    request_ms: dict[str, list[float]] = field(default_factory=dict)  # kind -> latencies
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

    def merge(self, other: UserStats) -> None:
        self.logins += other.logins
        self.requests += other.requests
        for kind, values in other.request_ms.items():
            self.request_ms.setdefault(kind, []).extend(values)
        self.login_ms += other.login_ms
        for status, count in other.http_errors.items():
            self.http_errors[status] = self.http_errors.get(status, 0) + count
        self.lost_sessions += other.lost_sessions
        self.surviving_sessions += other.surviving_sessions
        self.flow_errors += other.flow_errors
        self.transport_errors += other.transport_errors
        for example in other.examples:
            self.note(example)


def _pick(pattern: re.Pattern, text: str, what: str) -> str:
    match = pattern.search(text)
    if not match:
        raise FlowError(f"no {what} on the page")
    return html.unescape(match.group(1))


class SimulatedUser:
    """One browser: a cookie jar for the SP's site and one for the IdP's, as on two real sites."""

    def __init__(self, sp_base: str, index: int, stats: UserStats) -> None:
        self.sp_base = sp_base
        self.method, self.persona, self.name = PERSONAS[index % len(PERSONAS)]
        self.stats = stats
        self._new_sessions()

    def _new_sessions(self) -> None:
        # Both servers are 127.0.0.1 on two ports, and cookies ignore ports: one jar per
        # site keeps the SP's session cookie away from the IdP's server, as two hosts would.
        self.sp = requests.Session()
        self.idp = requests.Session()

    def close(self) -> None:
        self.sp.close()
        self.idp.close()

    def _request(self, kind: str, method: str, url: str, **kw) -> requests.Response:
        """One request, timed under ``kind``; a non-2xx/3xx answer is counted (never raised)."""
        if kind in SP_KINDS:
            http = self.sp
            url = url if url.startswith("http") else self.sp_base + url
            kw["headers"] = {PHASE_HEADER: kind}
        else:
            http = self.idp
        started = time.perf_counter()
        response = http.request(method, url, allow_redirects=False, timeout=REQUEST_TIMEOUT, **kw)
        self.stats.request_ms.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
        self.stats.requests += 1
        if not 200 <= response.status_code < 400:
            self.stats.http_errors[response.status_code] = self.stats.http_errors.get(response.status_code, 0) + 1
            body = " ".join(response.text.split())[-200:]
            self.stats.note(f"{method} {url} -> {response.status_code}: {body}")
        return response

    def _send(self, kind: str, method: str, url: str, expect: int | tuple[int, ...], **kw) -> requests.Response:
        response = self._request(kind, method, url, **kw)
        if response.status_code not in (expect if isinstance(expect, tuple) else (expect,)):
            raise FlowError(f"{method} {response.url}: expected {expect}, got {response.status_code}")
        return response

    def one_login(self) -> None:
        started = time.perf_counter()
        to_idp = self._send("start", "GET", f"/login/{self.method}", 302)
        page = self._send("idp_page", "GET", to_idp.headers["Location"], 200)
        answer = self._send(
            "idp_answer",
            "POST",
            urljoin(page.url, _pick(_DEVIDP_ACTION, page.text, "IdP form")),  # the form's action is relative
            200,
            data={"token": _pick(_TOKEN, page.text, "IdP token"), "persona": self.persona, "outcome": "success"},
        ).text
        acs_url = _pick(_AUTOPOST_ACTION, answer, "ACS form")
        if not acs_url.startswith(self.sp_base + "/saml/acs"):
            raise FlowError(f"the IdP posts to {acs_url}, not to the SP's ACS")
        acs = self._send(
            "acs",
            "POST",
            acs_url,
            302,
            data={
                "SAMLResponse": _pick(_SAML_RESPONSE, answer, "SAMLResponse"),
                "RelayState": _pick(_RELAY_STATE, answer, "RelayState"),
            },
        )
        landing = self._request("landing", "GET", "/mina-sidor")
        if landing.status_code != 200 or _DISPLAY_NAME.search(landing.text) is None:
            if 200 <= landing.status_code < 400:
                self.stats.lost_sessions += 1
                self.stats.note(
                    f"lost session: ACS -> {acs.headers.get('Location')}, then /mina-sidor -> {landing.status_code}"
                )
                return
            raise FlowError(f"/mina-sidor after login -> {landing.status_code}")
        self.stats.login_ms.append((time.perf_counter() - started) * 1000)
        if html.unescape(_DISPLAY_NAME.search(landing.text).group(1)).strip() != self.name:
            raise FlowError("logged in as somebody else")
        self.stats.logins += 1
        self._send("logout", "POST", "/logout", 302, data={"csrf_token": _pick(_CSRF, landing.text, "CSRF token")})
        after = self._send("after_logout", "GET", "/mina-sidor", (200, 302))
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
                self.sp.cookies.clear()
                self.idp.cookies.clear()
            except requests.RequestException as exc:
                self.stats.transport_errors += 1
                self.stats.note(f"{exc.__class__.__name__}: {exc}")
                self.close()
                self._new_sessions()
        self.close()


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
        self.base = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.proc = start_pserve(ini, log_path, cwd=ROOT)  # cwd: ``bench.cpu_probe`` is importable there

    def wait_until_serving(self, timeout: float = 90.0) -> None:
        wait_until_serving(self.proc, f"{self.base}/saml/metadata", timeout=timeout, log_path=self.log_path)

    def cpu_seconds(self) -> float | None:
        """User + system CPU time of the server so far (Linux /proc; None elsewhere).

        pserve serves in its own process (no reloader, no child), so this is the server.
        """
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


def _cpu_probe(server: Server) -> dict:
    """The SP's per-phase CPU sums (bench/cpu_probe.py); checks they come from the process /proc is read for."""
    response = requests.get(server.base + CPU_PROBE_PATH, timeout=REQUEST_TIMEOUT)
    response.raise_for_status()
    sums = response.json()
    if sums["pid"] != server.proc.pid:
        raise RuntimeError(f"the CPU probe answered from pid {sums['pid']}, not the server's {server.proc.pid}")
    return sums


def _cpu_split(cpu_s: float | None, before: dict, after: dict, logins: int) -> dict:
    """CPU ms per login, in total and by phase, from the process time and the probe's sums."""
    if cpu_s is None or not logins:
        return {
            "sp_cpu_ms_per_login": None,
            "sp_cpu_ms_per_login_by_phase": None,
            "sp_cpu_phases_cover": None,
            "sp_logins_per_cpu_s": None,
        }
    total_ms = cpu_s * 1000 / logins
    by_phase = dict.fromkeys(PHASES, 0.0)
    for kind, phase in PHASE_OF_KIND.items():
        by_phase[phase] += (after["cpu_ns"][kind] - before["cpu_ns"][kind]) / 1e6 / logins
    explained = sum(by_phase.values())
    split = {phase: round(ms, 2) for phase, ms in by_phase.items()}
    split["other"] = round(total_ms - explained, 2)
    return {
        "sp_cpu_ms_per_login": round(total_ms, 2),
        "sp_cpu_ms_per_login_by_phase": split,
        "sp_cpu_phases_cover": round(explained / total_ms, 3) if total_ms else None,
        "sp_logins_per_cpu_s": round(1000 / total_ms, 1) if total_ms else None,
    }


def _cores(before: float | None, after: float | None, elapsed: float) -> float | None:
    # 1.0 = one core busy all the time; one Python process cannot go far past it (GIL)
    return round((after - before) / elapsed, 2) if None not in (before, after) and elapsed else None


def run_backend(name: str, store_url: str, prefix: str, args, workdir: str, keys: str) -> dict:
    sp_port, idp_port = free_port(), free_port()
    sp_base, idp_base = f"http://127.0.0.1:{sp_port}", f"http://127.0.0.1:{idp_port}"
    # the load clients speak plain HTTP and would not send Secure cookies over it
    # and all 50 simulated users share 127.0.0.1, so the per-address login-start limit is off
    common = dict(
        sp_base=sp_base,
        idp_base=idp_base,
        keys_dir=keys,
        cookie_secure=False,
        store__key_prefix=prefix,
        security__login_start_limit="0",
    )
    server_options = {"connection_limit": str(max(100, 2 * args.users))}
    sp_settings = development_settings(store_url=store_url, **common)
    sp_settings["pyramid.includes"] = "bench.cpu_probe"
    # the IdP's pending requests in a file of its own: its writes must not load the measured store
    idp_store = "sqlite:///" + os.path.join(workdir, f"{name}-idp.sqlite")
    idp_settings = development_settings(store_url=idp_store, **common)
    sp_ini = write_ini(
        os.path.join(workdir, f"{name}-sp.ini"), sp_settings, port=sp_port, threads=args.threads, server=server_options
    )
    idp_ini = write_ini(
        os.path.join(workdir, f"{name}-idp.ini"),
        idp_settings,
        port=idp_port,
        threads=args.threads,
        server=server_options,
    )
    sp = Server(sp_ini, sp_port, os.path.join(workdir, f"{name}-sp.log"))
    idp = None
    try:
        idp = Server(idp_ini, idp_port, os.path.join(workdir, f"{name}-idp.log"))
        sp.wait_until_serving()
        idp.wait_until_serving()
        warmup = UserStats()
        SimulatedUser(sp_base, 0, warmup).one_login()  # fails loudly if the flow itself is broken
        all_stats = [UserStats() for _ in range(args.users)]
        users = [SimulatedUser(sp_base, i, s) for i, s in enumerate(all_stats)]
        load_before = os.getloadavg()[0]
        probe_before = _cpu_probe(sp)
        cpu_before, idp_cpu_before, client_before = sp.cpu_seconds(), idp.cpu_seconds(), time.process_time()
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
        cpu_after, idp_cpu_after, client_after = sp.cpu_seconds(), idp.cpu_seconds(), time.process_time()
        probe_after = _cpu_probe(sp)
        load_after = os.getloadavg()[0]
        stuck = sum(1 for t in threads if t.is_alive())
    finally:
        sp.stop()
        if idp is not None:
            idp.stop()
    problems_logged = sp.logged_problems() + idp.logged_problems()

    merged = UserStats()
    for s in all_stats:
        merged.merge(s)
    all_requests = [ms for values in merged.request_ms.values() for ms in values]
    sp_cpu_s = cpu_after - cpu_before if None not in (cpu_before, cpu_after) else None
    logins_per_s = round(merged.logins / elapsed, 2) if elapsed else 0.0
    return {
        "users": args.users,
        "seconds": round(elapsed, 1),
        "server_threads": args.threads,
        "server_cpu_cores": _cores(cpu_before, cpu_after, elapsed),
        "idp_cpu_cores": _cores(idp_cpu_before, idp_cpu_after, elapsed),
        "client_cpu_cores": _cores(client_before, client_after, elapsed),
        "loadavg_before": round(load_before, 2),
        "loadavg_after": round(load_after, 2),
        "logins": merged.logins,
        "logins_per_s": logins_per_s,
        "p50_ms": _percentile(merged.login_ms, 0.50),
        "p95_ms": _percentile(merged.login_ms, 0.95),
        "p99_ms": _percentile(merged.login_ms, 0.99),
        "requests": merged.requests,
        "request_p50_ms": _percentile(all_requests, 0.50),
        "request_p99_ms": _percentile(all_requests, 0.99),
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
        "sp_logins_per_s": logins_per_s,
        **_cpu_split(sp_cpu_s, probe_before, probe_after, merged.logins),
        "sp_cpu_source": "/proc/<pid>/stat utime+stime; phases: time.thread_time in a tween (bench/cpu_probe.py)",
        "sp_request_ms": {
            kind: {
                "p50": _percentile(merged.request_ms.get(kind, []), 0.50),
                "p99": _percentile(merged.request_ms.get(kind, []), 0.99),
            }
            for kind in SP_KINDS
        },
        "idp_request_ms": {
            kind: {
                "p50": _percentile(merged.request_ms.get(kind, []), 0.50),
                "p99": _percentile(merged.request_ms.get(kind, []), 0.99),
            }
            for kind in IDP_KINDS
        },
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
        f"[{name}] {r['users']} users, {r['seconds']} s, load average {r['loadavg_before']} -> {r['loadavg_after']}; "
        f"CPU cores used: SP {r['server_cpu_cores']} ({r['server_threads']} threads), IdP {r['idp_cpu_cores']}, "
        f"load client {r['client_cpu_cores']}"
    )
    print(
        f"[{name}] {r['logins']} logins = {r['sp_logins_per_s']} logins/s; login latency p50 {r['p50_ms']} ms, "
        f"p95 {r['p95_ms']} ms, p99 {r['p99_ms']} ms; {r['requests']} requests (p50 {r['request_p50_ms']} ms, "
        f"p99 {r['request_p99_ms']} ms)"
    )
    split = r["sp_cpu_ms_per_login_by_phase"] or {}
    print(
        f"[{name}] SP CPU {r['sp_cpu_ms_per_login']} ms per login ({r['sp_logins_per_cpu_s']} logins per CPU second): "
        + ", ".join(f"{phase} {ms}" for phase, ms in split.items())
        + f"; the phases explain {r['sp_cpu_phases_cover']} of it"
    )
    print(
        f"[{name}] SP requests p50/p99 ms: "
        + ", ".join(f"{kind} {v['p50']}/{v['p99']}" for kind, v in r["sp_request_ms"].items())
        + "; IdP: "
        + ", ".join(f"{kind} {v['p50']}/{v['p99']}" for kind, v in r["idp_request_ms"].items())
    )
    print(
        f"[{name}] non-2xx/3xx: {r['http_errors']} {r['http_errors_by_status']}, 5xx: {r['http_5xx']}, "
        f"lost sessions: {r['lost_sessions']}, sessions surviving logout: {r['surviving_sessions']}, flow errors: {r['flow_errors']}, transport errors: "
        f"{r['transport_errors']}, stuck users: {r['stuck_users']}, server ERROR lines: {r['server_errors_logged']}"
    )
    cover = r["sp_cpu_phases_cover"]
    if cover is not None and cover > 1.02:
        # thread CPU inside the tween cannot exceed the process's: the probe or /proc was misread
        print(f"[{name}] WARNING: the phases add up to {cover} of the SP process's CPU time; the split is wrong")
    for example in r["examples"]:
        print(f"[{name}]   e.g. {example}")


# the keys of each backend's entry in the JSON line
SUMMARY_KEYS = (
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
    "sp_logins_per_s",
    "sp_cpu_ms_per_login",
    "sp_cpu_ms_per_login_by_phase",
    "sp_cpu_phases_cover",
    "sp_logins_per_cpu_s",
    "sp_request_ms",
    "idp_cpu_cores",
    "client_cpu_cores",
    "loadavg_before",
    "loadavg_after",
)
FAILURE_KEYS = ("http_5xx", "lost_sessions", "surviving_sessions", "flow_errors", "transport_errors", "stuck_users")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50, help="concurrent simulated users (default 50)")
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds per backend (default 60)")
    parser.add_argument("--backends", default="sqlite,redis", help="comma-separated, in order (default sqlite,redis)")
    parser.add_argument(
        "--threads", type=int, default=50, help="waitress worker threads of each server (default 50: one per user)"
    )
    parser.add_argument("--max-logins", type=int, default=100_000, help="bound on logins per user (default 100000)")
    parser.add_argument("--redis-url", default=os.environ.get("EKN_LOAD_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--keep", action="store_true", help="keep var/load/<run>/ (inis, server logs, keys)")
    parser.add_argument(
        "--signing-key",
        choices=("rsa", "ec"),
        default="rsa",
        help="the SP profiles' signing keys: rsa (3072 bits, the default) or ec (P-256: ecdsa-sha256 AuthnRequests)",
    )
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
        # 3072-bit RSA, as in production; with --signing-key ec the SP's signing keys are EC P-256
        key_type = args.signing_key if stem.startswith("sp-") and stem.endswith("-signing") else "rsa"
        write_key_pair(keys, stem, f"ekn_saml load test {stem} (TEST ONLY)", key_type=key_type)
    write_key_file(os.path.join(keys, SERVER_KEYS_FILE))
    print(
        f"load test: {args.users} users x {args.seconds:g} s per backend, {args.signing_key} SP signing keys; "
        f"work dir {workdir}",
        flush=True,
    )

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
            failed = failed or "error" in r or any(r[k] for k in FAILURE_KEYS)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    summary = {name: (r if "error" in r else {k: r[k] for k in SUMMARY_KEYS}) for name, r in results.items()}
    print(json.dumps({"load": summary}, separators=(", ", ": ")))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
