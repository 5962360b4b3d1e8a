# SPDX-License-Identifier: Apache-2.0
"""End-to-end HTTP logins per second: the demo app under waitress, driven from a separate process.

Three processes: this orchestrator, the server (``serve``: the demo app,
``ekn_saml.demo:main``, with the bench IdP in its metadata and the default
SQLite store, served by waitress on 127.0.0.1) and the load process
(``load``), which plays the browser and the IdP:

1. ``GET /login/bankid`` for each login: the SP builds, stores and signs an
   AuthnRequest and redirects (timed: this is the SP's work);
2. the IdP's answers are made (3072-bit signatures and encryption; **not
   timed**: that is the IdP's machine's work, not the SP's);
3. ``POST /saml/acs`` with each answer and the browser-binding cookie: the
   SP validates, maps and starts a session, and redirects (timed).

logins/s = completed logins / (time of phase 1 + time of phase 3), each
phase run by ``concurrency`` keep-alive connections.  Bounded by a login
count and a time limit; a login that does not end in the redirect to
/mina-sidor with a session cookie counts as failed.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from http.client import HTTPConnection
from urllib.parse import parse_qs, urlencode, urlsplit

from ekn_saml.testing import free_port, stop_process, wait_until_serving

from .fixtures import SP_ENTITY_ID, bench_keys, build_response, sp_settings

# ---------------------------------------------------------------- server process


def serve(port: int, keys_dir: str, store_url: str, threads: int) -> None:
    import logging

    import waitress

    from ekn_saml.demo import main

    # waitress warns whenever a request waits for a thread: under load, that is the point
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)

    keys = bench_keys(keys_dir)
    settings = sp_settings(keys, store_url=store_url, base=f"http://127.0.0.1:{port}")
    app = main({}, **settings)
    waitress.serve(app, host="127.0.0.1", port=port, threads=threads, _quiet=True)


# ---------------------------------------------------------------- load process


def _cookie(headers, name: str) -> str | None:
    for key, value in headers:
        if key.lower() == "set-cookie" and value.startswith(name + "="):
            return value.split(";", 1)[0].split("=", 1)[1]
    return None


def _request_id(location: str) -> tuple[str, str]:
    query = parse_qs(urlsplit(location).query)
    xml = zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15)
    start = xml.index(b' ID="') + 5
    return xml[start : xml.index(b'"', start)].decode(), query["RelayState"][0]


def _in_threads(count: int, items: list, work) -> float:
    """Run ``work(connection, item)`` over ``items`` on ``count`` connections; return the elapsed seconds."""
    chunks = [items[i::count] for i in range(count)]
    start = time.perf_counter()

    def run(chunk):
        conn = HTTPConnection(HOST, PORT, timeout=30)
        for item in chunk:
            if time.perf_counter() - start > DEADLINE[0]:
                break
            work(conn, item)
        conn.close()

    workers = [threading.Thread(target=run, args=(chunk,)) for chunk in chunks]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - start


HOST, PORT = "127.0.0.1", 0
# sp_settings leaves cookie_secure at true, so both cookies have the __Host- prefix (ekn_saml.cookies)
BINDING_COOKIE = "__Host-ekn_saml_req"
SESSION_COOKIE = "__Host-ekn_session"
DEADLINE = [60.0]


def load(port: int, keys_dir: str, logins: int, seconds: float, concurrency: int) -> dict:
    global PORT
    PORT = port
    DEADLINE[0] = seconds / 2  # each timed phase gets half
    keys = bench_keys(keys_dir)
    acs_url = f"http://127.0.0.1:{port}/saml/acs"
    started: list[dict] = []
    lock = threading.Lock()
    authn_ms: list[float] = []
    acs_ms: list[float] = []

    def start_login(conn, _index):
        t = time.perf_counter()
        conn.request("GET", "/login/bankid")
        response = conn.getresponse()
        response.read()
        elapsed = (time.perf_counter() - t) * 1000
        location = response.getheader("Location", "")
        token = _cookie(response.getheaders(), BINDING_COOKIE)
        if response.status == 302 and token and "SAMLRequest=" in location:
            request_id, relay_state = _request_id(location)
            with lock:
                authn_ms.append(elapsed)
                started.append({"request_id": request_id, "relay_state": relay_state, "token": token})

    phase1 = _in_threads(concurrency, list(range(logins)), start_login)
    for login in started:  # the IdP's work: not timed
        xml = build_response(keys, login["request_id"], acs_url=acs_url, sp_entity_id=SP_ENTITY_ID)
        login["body"] = urlencode({"SAMLResponse": base64.b64encode(xml).decode(), "RelayState": login["relay_state"]})
    done: list[str] = []

    def finish_login(conn, login):
        t = time.perf_counter()
        conn.request(
            "POST",
            "/saml/acs",
            body=login["body"],
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"{BINDING_COOKIE}={login['token']}",
            },
        )
        response = conn.getresponse()
        response.read()
        elapsed = (time.perf_counter() - t) * 1000
        session = _cookie(response.getheaders(), SESSION_COOKIE)
        if response.status == 302 and response.getheader("Location", "").endswith("/mina-sidor") and session:
            with lock:
                acs_ms.append(elapsed)
                done.append(session)

    phase3 = _in_threads(concurrency, started, finish_login)
    # one session really works (untimed)
    conn = HTTPConnection(HOST, PORT, timeout=30)
    conn.request("GET", "/mina-sidor", headers={"Cookie": f"{SESSION_COOKIE}={done[0]}"} if done else {})
    page = conn.getresponse()
    page.read()
    conn.close()

    def quantiles(values):
        values = sorted(values)
        if not values:
            return {"median_ms": None, "p95_ms": None}
        return {
            "median_ms": round(values[len(values) // 2], 2),
            "p95_ms": round(values[min(len(values) - 1, round(0.95 * (len(values) - 1)))], 2),
        }

    return {
        "logins_attempted": logins,
        "logins_completed": len(done),
        "concurrency": concurrency,
        "authn_request_seconds": round(phase1, 3),
        "acs_seconds": round(phase3, 3),
        "logins_per_second": round(len(done) / (phase1 + phase3), 1) if done else 0.0,
        "authn_request_http": quantiles(authn_ms),
        "acs_http": quantiles(acs_ms),
        "session_page_status": page.status,
    }


# ---------------------------------------------------------------- orchestration


def run_http(keys_dir: str, logins: int = 200, seconds: float = 60.0, concurrency: int = 4, log=print) -> dict:
    """Start the server process and the load process; return the load process's figures."""
    port = free_port()
    python = sys.executable
    cwd = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory(prefix="ekn_saml-bench-") as state:
        store = f"sqlite:///{state}/state.sqlite"
        server = subprocess.Popen(
            [python, "-m", "bench.http_logins", "serve", "--port", str(port), "--keys", keys_dir, "--store", store],
            cwd=cwd,
        )
        try:
            wait_until_serving(server, f"http://127.0.0.1:{port}/saml/metadata", timeout=30)
            log(
                f"waitress serves the demo app on 127.0.0.1:{port} (pid {server.pid}); load: {logins} logins, {concurrency} connections"
            )
            loader = subprocess.run(
                [
                    python,
                    "-m",
                    "bench.http_logins",
                    "load",
                    "--port",
                    str(port),
                    "--keys",
                    keys_dir,
                    "--logins",
                    str(logins),
                    "--seconds",
                    str(seconds),
                    "--concurrency",
                    str(concurrency),
                ],
                cwd=cwd,
                capture_output=True,
                text=True,
                timeout=seconds + 120,
            )
            if loader.returncode != 0:
                raise RuntimeError(f"the load process failed:\n{loader.stderr[-2000:]}")
            result = json.loads(loader.stdout.strip().splitlines()[-1])
            result["store"] = "sqlite"
            return result
        finally:
            stop_process(server)


def print_http(result: dict, out=print) -> None:
    out(
        f"HTTP logins (waitress, 127.0.0.1, {result['store']} store, {result['concurrency']} connections): "
        f"{result['logins_completed']}/{result['logins_attempted']} completed, {result['logins_per_second']} logins/s"
    )
    a, b = result["authn_request_http"], result["acs_http"]
    out(
        f"  GET /login/bankid (AuthnRequest): median {a['median_ms']} ms, p95 {a['p95_ms']} ms; {result['authn_request_seconds']} s in all"
    )
    out(
        f"  POST /saml/acs:                   median {b['median_ms']} ms, p95 {b['p95_ms']} ms; {result['acs_seconds']} s in all"
    )


def _main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.http_logins")
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--keys", required=True)
    s.add_argument("--store", required=True)
    s.add_argument("--threads", type=int, default=4)
    ld = sub.add_parser("load")
    ld.add_argument("--port", type=int, required=True)
    ld.add_argument("--keys", required=True)
    ld.add_argument("--logins", type=int, default=200)
    ld.add_argument("--seconds", type=float, default=60.0)
    ld.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.port, args.keys, args.store, args.threads)
    else:
        print(json.dumps(load(args.port, args.keys, args.logins, args.seconds, args.concurrency)))


if __name__ == "__main__":
    _main()
