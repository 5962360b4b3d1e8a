# SPDX-License-Identifier: Apache-2.0
"""Real-browser fixtures: the demo app served by waitress, driven by Debian's Chromium.

One server per session: ``pserve`` on a temporary ini (TEST keys made here,
SQLite store in a temporary directory, development IdP on); a second one
with a tiny login-start limit serves only the tests of the 429 page, and a
third serves tests/host_app, the portal that includes ekn_saml.  The SP is
``http://localhost:<port>`` and the development IdP ``http://127.0.0.1:<port>``:
two different *sites*, so the IdP's answer to the ACS is a real cross-site
POST and the browser-binding cookie (SameSite=None; Secure) must survive it.
Chromium treats http://localhost as a secure context and keeps Secure cookies
there; 127.0.0.1 is only the IdP, which sets no cookies of ours.

Every test gets a fresh browser context (no cookies), a ``page`` whose console
is watched for Content-Security-Policy reports, and leaves a full-page
screenshot in ``test-artifacts/browser/<test-name>.png``; the server's log of
the run is ``test-artifacts/browser/server.log``.

Playwright's own browser download does not work here: we always launch
``/usr/bin/chromium`` (``make browser-deps`` installs it).
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from ekn_saml.testing import (
    development_settings,
    free_port,
    make_test_keys,
    start_pserve,
    stop_process,
    wait_until_serving,
    write_ini,
)

from browser_flows import SHORT_IDLE_TIMEOUT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT = 30.0
# Generous for a 2-core machine shared with other test runs; waits end as
# soon as the URL or selector is there, so passing runs do not pay for it.
WAIT_MS = 30_000


@dataclass(frozen=True)
class LiveServer:
    sp: str  # http://localhost:<port>: the SP and the demo app
    idp: str  # http://127.0.0.1:<port>: the development IdP, a different site
    log: Path
    keys_dir: Path | None = None  # the test keys, with the server key file (None: the host app)

    def url(self, path: str) -> str:
        return self.sp + path


def _write_ini(directory: Path, port: int, **extra: str) -> Path:
    keys = make_test_keys(str(directory / "keys"), "browser test")
    # the IdP on another origin than the SP: its POST to the ACS is cross-site
    settings = development_settings(
        sp_base=f"http://localhost:{port}",
        idp_base=f"http://127.0.0.1:{port}",
        keys_dir=keys,
        store_url=f"sqlite:///{directory}/state.sqlite",
        **extra,
    )
    settings = {"pyramid.default_locale_name": "sv", **settings}
    return Path(write_ini(str(directory / "browser-test.ini"), settings, port=port, log_level="INFO"))


@pytest.fixture(scope="session")
def artifacts_dir(pytestconfig) -> Path:
    directory = Path(pytestconfig.rootpath) / "test-artifacts" / "browser"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


TESTS_DIR = Path(__file__).resolve().parents[1]


def _write_host_app_ini(directory: Path, port: int) -> Path:
    """The ini of tests/host_app (the portal that includes ekn_saml), with the demo's SAML settings."""
    keys = make_test_keys(str(directory / "keys"), "browser test")
    settings = development_settings(
        sp_base=f"http://localhost:{port}",
        idp_base=f"http://127.0.0.1:{port}",
        keys_dir=keys,
        store_url=f"sqlite:///{directory}/state.sqlite",
        security__login_start_limit="0",
        landing_path="/portal/konto",
        logged_out_path="/",
    )
    settings["portal.session_secret"] = "portal browser test secret (TEST ONLY) " * 2
    path = str(directory / "host-app.ini")
    return Path(write_ini(path, settings, port=port, log_level="INFO", app="call:host_app:main"))


def _serve(tmp_path_factory, log: Path, *, host_app: bool = False, **extra: str):
    """A server of its own, the demo (settings ``extra``) or the host app; yields its LiveServer and stops it at the end."""
    directory = tmp_path_factory.mktemp("browser-app")
    port = free_port()
    ini = _write_host_app_ini(directory, port) if host_app else _write_ini(directory, port, **extra)
    # tests/ on the path: the host app is the package tests/host_app
    process = start_pserve(str(ini), str(log), cwd=str(directory), python_path=(str(TESTS_DIR),) if host_app else ())
    try:
        server = LiveServer(
            sp=f"http://localhost:{port}",
            idp=f"http://127.0.0.1:{port}",
            log=log,
            keys_dir=None if host_app else directory / "keys",
        )
        # asked through 127.0.0.1: the server listens there only, and
        # Chromium falls back to it when ::1 (localhost) refuses
        try:
            wait_until_serving(process, f"{server.idp}/login", timeout=SERVER_START_TIMEOUT, log_path=str(log))
        except RuntimeError as exc:
            pytest.fail(f"the demo server did not start: {exc}")
        yield server
    finally:
        stop_process(process)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, artifacts_dir) -> LiveServer:
    # Every test's browser comes from 127.0.0.1, faster than one client may start logins:
    # the login-start limit is off here and on in rate_limited_server.
    yield from _serve(tmp_path_factory, artifacts_dir / "server.log", security__login_start_limit="0")


@pytest.fixture(scope="session")
def host_app_server(tmp_path_factory, artifacts_dir) -> LiveServer:
    """tests/host_app, the portal with its own session, policy and pages, which includes ekn_saml."""
    yield from _serve(tmp_path_factory, artifacts_dir / "host-app-server.log", host_app=True)


@pytest.fixture(scope="session")
def rate_limited_server(tmp_path_factory, artifacts_dir) -> LiveServer:
    """A second server whose login-start limit is one start per hour, for the 429 page."""
    yield from _serve(
        tmp_path_factory,
        artifacts_dir / "rate-limited-server.log",
        security__login_start_limit="1",
        security__login_start_window="3600",
    )


@pytest.fixture(scope="session")
def short_session_server(tmp_path_factory, artifacts_dir) -> LiveServer:
    """A server whose sessions end after 20 s without activity, for the expiry warning and the timeout message."""
    yield from _serve(
        tmp_path_factory,
        artifacts_dir / "short-session-server.log",
        security__login_start_limit="0",
        session__idle_timeout=str(SHORT_IDLE_TIMEOUT),
    )


@pytest.fixture(scope="session")
def browser_type_launch_args():
    """Debian's Chromium, headless (overrides pytest-playwright's fixture)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"the browser tests need Debian's chromium at {CHROMIUM}: run `make browser-deps`")
    return {"executable_path": CHROMIUM, "headless": True, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args():
    """A Swedish desktop browser by default; tests that need more make their own context."""
    return {"locale": "sv-SE", "viewport": {"width": 1280, "height": 900}}


class Watch:
    """The pages of one test: CSP reports and uncaught errors are collected from all of them."""

    def __init__(self):
        self.pages: list = []
        self.owned_contexts: list = []
        self.csp: list[str] = []
        self.page_errors: list[str] = []

    def add_context(self, context, *, owned: bool = False) -> None:
        """Watch the pages of ``context``; close it at the end of the test if ``owned``."""
        if owned:
            self.owned_contexts.append(context)
        context.set_default_timeout(WAIT_MS)
        context.on("page", self._attach)

    def _attach(self, page) -> None:
        self.pages.append(page)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    def _on_console(self, message) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.csp.append(f"{message.type}: {message.text} ({message.location.get('url')})")


def _artifact_name(request) -> str:
    """``test_name`` or ``test_name-<param ids>``, without the one browser's name."""
    name = re.sub(r"\[chromium-?", "[", request.node.name).replace("[]", "")
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")


def save_screenshot(page, artifacts_dir: Path, name: str) -> Path:
    path = artifacts_dir / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def watch(new_context, request, artifacts_dir):
    """Watches every page a test opens; at teardown saves the screenshot and checks the console.

    The screenshot is of the last page opened, as it is when the test ends
    (pass or fail).  The test fails, at teardown, if any page logged a
    Content-Security-Policy violation or an uncaught script error.
    Depends on ``new_context`` so that it runs before the contexts close.
    """
    watch = Watch()
    yield watch
    open_pages = [p for p in watch.pages if not p.is_closed()]
    if open_pages:
        try:
            save_screenshot(open_pages[-1], artifacts_dir, _artifact_name(request))
        except Exception as exc:  # a failed screenshot must not hide the test's own result
            print(f"screenshot failed: {exc}", file=sys.stderr)
    for context in watch.owned_contexts:
        context.close()
    assert not watch.csp, "Content-Security-Policy violations:\n" + "\n".join(watch.csp)
    assert not watch.page_errors, "uncaught page errors:\n" + "\n".join(watch.page_errors)


@pytest.fixture
def page(context, watch):
    """pytest-playwright's page in the default context (Swedish desktop), watched."""
    watch.add_context(context)
    return context.new_page()


@pytest.fixture
def new_page(browser, browser_context_args, watch):
    """``new_page(**context_args)``: a watched page in a new context (locale, viewport, no JavaScript…).

    ``context_args`` override the session's ``browser_context_args``; the
    context is closed by ``watch`` after its screenshot.
    """

    def make(**context_args):
        context = browser.new_context(**{**browser_context_args, **context_args})
        watch.add_context(context, owned=True)
        return context.new_page()

    return make


@pytest.fixture
def shot(request, artifacts_dir):
    """``shot(page, "step")`` saves ``<test-name>--step.png``, a screenshot of a step on the way."""
    base = _artifact_name(request)
    return lambda page, step: save_screenshot(page, artifacts_dir, f"{base}--{step}")
