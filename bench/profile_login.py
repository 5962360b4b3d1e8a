# SPDX-License-Identifier: Apache-2.0
"""Where the SP's CPU per login goes: a cProfile of the SP app alone, by phase (issue 14).

``python -m bench.profile_login [--logins N] [--store redis://…|sqlite:///…] [--top K]``

The SP app runs in this process, called as WSGI (WebTest), one login at a
time; the development IdP runs in its own ``pserve`` process as in
``bench/load.py`` (the same settings, 3072-bit keys), so its signing and
encryption are not profiled.  The profiler is on only while the SP app
answers (a WSGI wrapper), so WebTest's own work is left out, and each
phase (start, ACS, landing, logout + the page after) gets its own profile
and its own CPU time (``time.thread_time``).  What this does **not** see:
waitress (HTTP parsing, the socket writes; ``other`` in ``make load``), and
the contention of 50 threads.  Under cProfile Python code costs roughly
twice its real time, so read the shares, and the CPU ms without the
profiler (printed first, ``--logins`` logins unprofiled) for the size.
"""

from __future__ import annotations

import argparse
import cProfile
import html
import io
import os
import pstats
import re
import shutil
import sys
import tempfile
import time
import uuid
from urllib.parse import urlsplit

import requests
import webtest

from bench.load import PERSONAS, Server
from ekn_saml.demo import main as demo_main
from ekn_saml.keygen import write_key_pair
from ekn_saml.server_keys import write_key_file
from ekn_saml.testing import DEV_KEY_STEMS, SERVER_KEYS_FILE, development_settings, free_port, write_ini

SP_BASE = "http://sp.bench.test"
PHASES = ("start", "acs", "landing", "logout")
_FORM = re.compile(r'<form class="devidp" method="post" action="([^"]+)"')
_TOKEN = re.compile(r'name="token" value="([^"]+)"')
_FIELD = re.compile(r'name="(SAMLResponse|RelayState)" value="([^"]*)"')
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _cpu_profile() -> cProfile.Profile:
    # this thread's CPU time, not the wall clock: a socket write that waits for a busy core is not CPU
    return cProfile.Profile(time.thread_time_ns, 1e-9)


class PhaseProfiler:
    """WSGI wrapper: profiles and times the wrapped app's calls under the current phase."""

    def __init__(self, app, *, profile: bool) -> None:
        self.app = app
        self.phase = "start"
        self.profiles = {p: _cpu_profile() for p in PHASES} if profile else None
        self.cpu_ns = dict.fromkeys(PHASES, 0)

    def __call__(self, environ, start_response):
        started = time.thread_time_ns()
        prof = self.profiles[self.phase] if self.profiles else None
        if prof:
            prof.enable()
        try:
            return list(self.app(environ, start_response))  # the whole body, as waitress would iterate it
        finally:
            if prof:
                prof.disable()
            self.cpu_ns[self.phase] += time.thread_time_ns() - started


def one_login(sp: webtest.TestApp, wrapper: PhaseProfiler, idp: requests.Session, index: int) -> None:
    method, persona, _name = PERSONAS[index % len(PERSONAS)]
    wrapper.phase = "start"
    to_idp = sp.get(f"/login/{method}", status=302)
    page = idp.get(to_idp.location, timeout=30)
    action = html.unescape(_FORM.search(page.text).group(1))
    answer = idp.post(
        page.url if action.startswith("?") else requests.compat.urljoin(page.url, action),
        data={"token": html.unescape(_TOKEN.search(page.text).group(1)), "persona": persona, "outcome": "success"},
        timeout=30,
    ).text
    fields = {k: html.unescape(v) for k, v in _FIELD.findall(answer)}
    acs_url = re.search(r'<form class="autopost" method="post" action="([^"]+)"', answer).group(1)
    wrapper.phase = "acs"
    sp.post(urlsplit(html.unescape(acs_url)).path, fields, status=302)
    wrapper.phase = "landing"
    landing = sp.get("/mina-sidor", status=200)
    wrapper.phase = "logout"
    sp.post("/logout", {"csrf_token": _CSRF.search(landing.text).group(1)}, status=302)
    sp.get("/mina-sidor", status=302)


def run(args) -> int:
    workdir = tempfile.mkdtemp(prefix="ekn-profile-")
    keys = os.path.join(workdir, "keys")
    for stem in DEV_KEY_STEMS:
        key_type = args.signing_key if stem.startswith("sp-") and stem.endswith("-signing") else "rsa"
        write_key_pair(keys, stem, f"ekn_saml profile {stem} (TEST ONLY)", key_type=key_type)
    write_key_file(os.path.join(keys, SERVER_KEYS_FILE))
    idp_port = free_port()
    idp_base = f"http://127.0.0.1:{idp_port}"
    prefix = f"ekn-profile:{uuid.uuid4().hex[:8]}:"
    common = dict(
        sp_base=SP_BASE,
        idp_base=idp_base,
        keys_dir=keys,
        cookie_secure=False,
        store__key_prefix=prefix,
        security__login_start_limit="0",
        **dict(args.setting),
    )
    idp_settings = development_settings(store_url="sqlite:///" + os.path.join(workdir, "idp.sqlite"), **common)
    idp_ini = write_ini(os.path.join(workdir, "idp.ini"), idp_settings, port=idp_port, threads=4)
    idp = Server(idp_ini, idp_port, os.path.join(workdir, "idp.log"))
    try:
        idp.wait_until_serving()
        sp_settings = development_settings(store_url=args.store, **common)
        app = demo_main({}, **sp_settings)
        environ = {"HTTP_HOST": "sp.bench.test", "wsgi.url_scheme": "http", "REMOTE_ADDR": "127.0.0.1"}
        idp_http = requests.Session()
        for profile in (False, True):
            wrapper = PhaseProfiler(app, profile=profile)
            sp = webtest.TestApp(wrapper, extra_environ=environ)
            for i in range(3):  # warm-up: imports, template compilation, connections
                one_login(sp, wrapper, idp_http, i)
            wrapper.cpu_ns = dict.fromkeys(PHASES, 0)
            if wrapper.profiles:
                wrapper.profiles = {p: _cpu_profile() for p in PHASES}
            for i in range(args.logins):
                one_login(sp, wrapper, idp_http, i)
            per_login = {p: ns / 1e6 / args.logins for p, ns in wrapper.cpu_ns.items()}
            label = "profiled" if profile else "unprofiled"
            print(
                f"[{label}] SP app CPU ms per login: {sum(per_login.values()):.2f} ("
                + ", ".join(f"{p} {ms:.2f}" for p, ms in per_login.items())
                + f"); store {args.store.split('://')[0]}, {args.logins} logins",
                flush=True,
            )
            if wrapper.profiles:
                for phase, prof in wrapper.profiles.items():
                    out = io.StringIO()
                    stats = pstats.Stats(prof, stream=out)
                    stats.sort_stats(args.sort).print_stats(args.top)
                    print(f"===== {phase} =====")
                    print(out.getvalue())
                    if args.dump:
                        stats.dump_stats(f"{args.dump}-{phase}.prof")
    finally:
        idp.stop()
        if args.store.startswith("redis"):
            from bench.load import _drop_redis_prefix

            _drop_redis_prefix(args.store, prefix)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logins", type=int, default=100)
    parser.add_argument("--store", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--signing-key", choices=("rsa", "ec"), default="rsa", help="the SP's signing keys")
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--dump", help="write each phase's pstats to <DUMP>-<phase>.prof")
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        type=lambda s: tuple(s.split("=", 1)),
        help="an extra development_settings key=value (keys without ekn_saml., '.' as '__')",
    )
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
