# SPDX-License-Identifier: Apache-2.0
"""Helpers for tests, benchmarks and host apps that run the demo with the development IdP.

One place for the settings of "the demo app + the embedded development IdP"
and for the ini file that serves it with waitress, so the functional tests,
browser tests, the two-node test and the benchmarks cannot drift apart.
Nothing here is used by the SP itself.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from .devidp import DEV_IDPS
from .keygen import write_key_pair
from .methods import BUILT_IN_METHODS, ORGANISATION
from .server_keys import write_key_file

# the default SP profile's keys, the "orgid" profile's and the development IdP's
DEV_KEY_STEMS = ("sp-signing", "sp-encryption", "sp-orgid-signing", "sp-orgid-encryption", "idp")
# The demo has two SP profiles, as the federation wants of a portal with both kinds of login
# (TAR §3.4): the default one for the person methods, "orgid" for Expisoft.
ORGID_PROFILE = "orgid"
ORGID_METHODS = tuple(m.name for m in BUILT_IN_METHODS.values() if m.profile == ORGANISATION)


def free_port() -> int:
    """A loopback port that was free a moment ago.

    The ini must name the port before the server starts; another process
    taking it in between makes the start fail loudly, never pass wrongly.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# the server keys (ekn_saml.server_keys) beside them: shared by every process of a test
SERVER_KEYS_FILE = "server-keys.key"


def make_test_keys(directory: str, purpose: str) -> str:
    """The SP's, the development IdP's and the server's TEST ONLY keys (RSA 2048 bits, for speed) in ``directory``."""
    for stem in DEV_KEY_STEMS:
        write_key_pair(directory, stem, f"ekn_saml {purpose} {stem} (TEST ONLY)", bits=2048)
    if not os.path.exists(os.path.join(directory, SERVER_KEYS_FILE)):
        write_key_file(os.path.join(directory, SERVER_KEYS_FILE))
    return directory


def development_settings(
    *,
    sp_base: str,
    keys_dir: str,
    store_url: str,
    idp_base: str | None = None,
    cookie_secure: bool = True,
    **extra: str,
) -> dict[str, str]:
    """``ekn_saml.*`` settings of the demo app served at ``sp_base`` with its development IdP.

    Two SP profiles: the default one (``<sp_base>/sp``; Mobilt BankID and
    BankID, so loa3-pnr) and ``orgid`` (``<sp_base>/sp/orgid``, ACS
    ``/saml/acs/orgid``; Expisoft, so loa3-orgid), each with its own keys.
    ``idp_base`` (default ``sp_base``) may be another origin, so that the
    IdP's POST to the ACS is cross-site as in production.  Keys are the
    :data:`DEV_KEY_STEMS` files and the :data:`SERVER_KEYS_FILE` in ``keys_dir``.  ``extra`` keys are given
    without the ``ekn_saml.`` prefix, with ``.`` written as ``__``.
    """
    idp_base = idp_base or sp_base
    keys = os.fspath(keys_dir)
    settings = {
        "ekn_saml.sp.entity_id": f"{sp_base}/sp",
        "ekn_saml.sp.public_base_url": sp_base,
        "ekn_saml.sp.signing_key": f"{keys}/sp-signing.key",
        "ekn_saml.sp.signing_cert": f"{keys}/sp-signing.crt",
        "ekn_saml.sp.encryption_keys": f"{keys}/sp-encryption.key",
        "ekn_saml.sp.encryption_cert": f"{keys}/sp-encryption.crt",
        "ekn_saml.sp_profiles": ORGID_PROFILE,
        f"ekn_saml.sp_profile.{ORGID_PROFILE}.entity_id": f"{sp_base}/sp/{ORGID_PROFILE}",
        f"ekn_saml.sp_profile.{ORGID_PROFILE}.signing_key": f"{keys}/sp-{ORGID_PROFILE}-signing.key",
        f"ekn_saml.sp_profile.{ORGID_PROFILE}.signing_cert": f"{keys}/sp-{ORGID_PROFILE}-signing.crt",
        f"ekn_saml.sp_profile.{ORGID_PROFILE}.encryption_keys": f"{keys}/sp-{ORGID_PROFILE}-encryption.key",
        f"ekn_saml.sp_profile.{ORGID_PROFILE}.encryption_cert": f"{keys}/sp-{ORGID_PROFILE}-encryption.crt",
        "ekn_saml.methods": " ".join(method for method, _categories in DEV_IDPS.values()),
        "ekn_saml.store.url": store_url,
        "ekn_saml.landing_path": "/mina-sidor",
        "ekn_saml.logged_out_path": "/logged-out",
        "ekn_saml.session.cookie_secure": "true" if cookie_secure else "false",
        "ekn_saml.devidp.enabled": "true",
        "ekn_saml.devidp.entity_id": f"{idp_base}/devidp",
        "ekn_saml.devidp.base_url": idp_base,
        "ekn_saml.devidp.key": f"{keys}/idp.key",
        "ekn_saml.devidp.cert": f"{keys}/idp.crt",
        "ekn_saml.server_keys": f"{keys}/{SERVER_KEYS_FILE}",
        # EKN's customer service as the pages show it (made-up values of the example domain)
        "ekn_saml.support.email": "kundservice@example.se",
        "ekn_saml.support.phone": "+46 8 000 00 00",
        "ekn_saml.support.opening_hours.sv": "vardagar 9–16",
        "ekn_saml.support.opening_hours.en": "weekdays 9–16 (Swedish time)",
        "ekn_saml.support.form_url.sv": "https://www.example.se/kontakt",
        "ekn_saml.support.form_url.en": "https://www.example.se/en/contact",
    }
    for slug, (method, _categories) in DEV_IDPS.items():
        settings[f"ekn_saml.method.{method}.idp"] = f"{idp_base}/devidp/{slug}"
    for method in ORGID_METHODS:
        settings[f"ekn_saml.method.{method}.sp_profile"] = ORGID_PROFILE
    settings.update({"ekn_saml." + key.replace("__", "."): value for key, value in extra.items()})
    return settings


_LOGGING = """\
[loggers]
keys = root

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = {level}
handlers = console

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(asctime)s %(levelname)-5.5s [%(name)s]{process} %(message)s
"""


def logging_ini(level: str, *, with_process: bool = False) -> str:
    """The logging sections of a test server's ini: everything at ``level`` and up to stderr.

    ``with_process`` adds the process id to each line, for servers with
    several worker processes.
    """
    return _LOGGING.format(level=level, process="[%(process)d]" if with_process else "")


def write_ini(
    path: str,
    settings: dict[str, str],
    *,
    port: int | None,
    threads: int = 4,
    server: dict[str, str] | None = None,
    log_level: str = "WARNING",
    app: str = "egg:ekn_saml",
) -> str:
    """Write a pserve ini serving ``settings`` with waitress on 127.0.0.1.

    ``port=None`` leaves it to ``pserve ini http_port=N``, so several nodes
    can share one file.  Values are written as they are; none may contain ``%``.
    ``app`` is the ``use =`` of the app section: the demo, or another app
    (``call:package:main``, e.g. a host app that includes ekn_saml).
    """
    listen = f"127.0.0.1:{port}" if port is not None else "127.0.0.1:%(http_port)s"
    lines = ["[app:main]", f"use = {app}", *(f"{k} = {v}" for k, v in settings.items()), ""]
    lines += ["[server:main]", "use = egg:waitress#main", f"listen = {listen}", f"threads = {threads}"]
    lines += [f"{k} = {v}" for k, v in (server or {}).items()]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n\n" + logging_ini(log_level))
    return path


# ---------------------------------------------------------------- a served app in its own process


def start_pserve(
    ini: str, log_path: str, *, cwd: str, args: tuple[str, ...] = (), python_path: tuple[str, ...] = ()
) -> subprocess.Popen:
    """``pserve ini [args]`` in a new process, its output (both streams) in ``log_path``; stop it with :func:`stop_process`.

    ``python_path`` directories come first on the process's ``PYTHONPATH``
    (where an app the ini names by ``call:`` can be imported from).
    """
    env = None
    if python_path:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([*python_path, os.environ.get("PYTHONPATH", "")])}
    with open(log_path, "wb") as log:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and pserve, for tests
            [sys.executable, "-m", "pyramid.scripts.pserve", str(ini), *args],
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def wait_until_serving(
    proc: subprocess.Popen, url: str, *, timeout: float, log_path: str | None = None, headers: dict | None = None
) -> None:
    """Poll ``url`` (never through a proxy) until it answers 200; RuntimeError if ``proc`` exits or time runs out.

    The error carries the end of ``log_path``, so a failed start explains itself.
    """
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def failure(what: str) -> RuntimeError:
        tail = ""
        if log_path and os.path.exists(log_path):
            with open(log_path, encoding="utf-8", errors="replace") as fh:
                tail = ":\n" + fh.read()[-3000:]
        return RuntimeError(f"{what}; see {log_path}{tail}")

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise failure(f"the server exited with {proc.returncode}")
        try:
            # a URL of the server the test itself started
            with direct.open(urllib.request.Request(url, headers=headers or {}), timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)  # polling a starting server
    raise failure(f"the server did not answer {url} within {timeout} s")


def stop_process(proc: subprocess.Popen, timeout: float = 10) -> None:
    """Terminate ``proc`` and wait for it; kill it if it does not end within ``timeout`` seconds."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)
