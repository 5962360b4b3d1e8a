# SPDX-License-Identifier: Apache-2.0
"""The demo app served by gunicorn with several worker processes, and a browser that talks to it.

The server is started the way production.ini.example runs it: ``pserve``
of an ini whose ``[server:main]`` is that file's (``egg:gunicorn#main``,
gthread workers, the proxy settings), with two workers, so the pserve
process is gunicorn's master (it builds the app, then forks the workers)
and SIGTERM to it is gunicorn's graceful stop.  Its working directory is
this folder, so ``pyramid.includes = worker_probe`` (the test-only include
that names the answering worker) is importable in the master and, after
the fork, in every worker.

The app's public base is ``http://sp.workers.test`` (Destination, Recipient
and the ACS URL are built on it), as behind a proxy; :class:`Browser` sends
every request to whichever server is running now, on its loopback port,
with that ``Host``.  So a server restarted on another port is the same
site to the browser and to the logins under way.
"""

from __future__ import annotations

import configparser
import http.client
import os
import subprocess
import threading
from html.parser import HTMLParser
from urllib.parse import urlsplit

import requests

from ekn_saml.testing import free_port, logging_ini, start_pserve, stop_process, wait_until_serving

from worker_probe import ENTERED_DIR_SETTING, HOLD_HEADER, NAME_HEADER, PID_HEADER

HERE = os.path.dirname(os.path.abspath(__file__))
PUBLIC_HOST = "sp.workers.test"
PUBLIC_BASE = f"http://{PUBLIC_HOST}"
WORKERS = 2

PRODUCTION_INI = os.path.join(os.path.dirname(os.path.dirname(HERE)), "production.ini.example")


def production_server_options() -> dict[str, str]:
    """production.ini.example's ``[server:main]``: the gunicorn set-up the tests serve with."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(PRODUCTION_INI, encoding="utf-8")
    return dict(parser.items("server:main"))


def _server_section() -> str:
    # as in production, but with two workers, on a port pserve's command line names
    # gunicorn 25.1+ opens one control socket, $HOME/.gunicorn/gunicorn.ctl, for every server a user
    # starts: servers the tests have up at the same time would take it from each other
    options = {
        **production_server_options(),
        "bind": "127.0.0.1:%(http_port)s",
        "workers": str(WORKERS),
        "control_socket_disable": "true",
    }
    return "[server:main]\n" + "".join(f"{k} = {v}\n" for k, v in options.items())


GRACEFUL_TIMEOUT = int(production_server_options()["graceful_timeout"])

# INFO: gunicorn's own lines (booting worker, shutting down) land in the log for a failing test to show
_LOGGING = logging_ini("INFO", with_process=True)


def write_gunicorn_ini(path, settings: dict[str, str], *, entered_dir: str) -> str:
    """An ini serving ``settings`` (plus the worker probe) with gunicorn; values must not contain ``%``."""
    app = {**settings, "pyramid.includes": "worker_probe", ENTERED_DIR_SETTING: entered_dir}
    lines = ["[app:main]", "use = egg:ekn_saml", *(f"{k} = {v}" for k, v in app.items()), ""]
    text = "\n".join(lines) + "\n" + _server_section()
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text + "\n" + _LOGGING)
    return str(path)


class GunicornServer:
    """One gunicorn master (pserve) with its workers on a free loopback port; :meth:`stop` always ends it."""

    def __init__(self, ini: str, log_path) -> None:
        self.port = free_port()
        self.log_path = str(log_path)
        self.proc: subprocess.Popen = start_pserve(ini, self.log_path, cwd=HERE, args=(f"http_port={self.port}",))

    def wait_until_serving(self, timeout: float = 60) -> None:
        url = f"http://127.0.0.1:{self.port}/saml/metadata"
        wait_until_serving(self.proc, url, timeout=timeout, log_path=self.log_path, headers={"Host": PUBLIC_HOST})

    def worker_pids(self) -> set[int]:
        """The master's children now (Linux /proc): gunicorn's workers."""
        with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as fh:
            return {int(pid) for pid in fh.read().split()}

    def terminate(self) -> None:
        """SIGTERM to the master: gunicorn's graceful stop."""
        self.proc.terminate()

    def stop(self) -> None:
        stop_process(self.proc, timeout=GRACEFUL_TIMEOUT + 10)

    def log(self) -> str:
        with open(self.log_path, errors="replace") as fh:
            return fh.read()[-4000:]


class _Forms(HTMLParser):
    """Every form of a page: action, class and the values a browser would send."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "class": a.get("class", ""), "fields": {}})
        elif tag == "input" and self.forms and a.get("name"):
            if a.get("type") in ("radio", "checkbox") and "checked" not in a:
                return
            self.forms[-1]["fields"][a["name"]] = a.get("value", "")


def form_of(html: str, css_class: str) -> dict:
    parser = _Forms()
    parser.feed(html)
    (form,) = [f for f in parser.forms if css_class in f["class"].split()]
    return form


class Browser:
    """One user's browser in front of the proxy: a cookie jar, and the server of the moment behind ``PUBLIC_BASE``.

    Every request goes on a new connection (``Connection: close``), so each
    one is accepted by whichever worker the kernel hands it to, as requests
    from a proxy's connection pool would be.
    """

    def __init__(self, server: GunicornServer) -> None:
        self.server = server
        self.http = requests.Session()

    def send(self, method: str, url: str, *, headers: dict | None = None, **kw) -> requests.Response:
        parts = urlsplit(url)
        assert parts.netloc in ("", PUBLIC_HOST), f"{url} leaves the public site"
        target = f"http://127.0.0.1:{self.server.port}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        sent = {"Host": PUBLIC_HOST, "Connection": "close", **(headers or {})}
        return self.http.request(method, target, headers=sent, allow_redirects=False, timeout=30, **kw)

    def start(self, method: str = "bankid", **kw) -> requests.Response:
        """``GET /login/<method>``: the SP signs and stores an AuthnRequest and redirects to the IdP."""
        response = self.send("GET", f"/login/{method}", **kw)
        assert response.status_code == 302, response.text
        assert response.headers["Location"].startswith(PUBLIC_BASE + "/devidp/"), response.headers["Location"]
        return response

    def answer(self, to_idp: requests.Response, persona: str = "karin") -> dict:
        """The development IdP's page and its answer: the auto-post form to the ACS."""
        page = self.send("GET", to_idp.headers["Location"])
        assert page.status_code == 200, page.text
        persona_form = form_of(page.text, "devidp")
        autopost = self.send(
            "POST", persona_form["action"], data={**persona_form["fields"], "persona": persona, "outcome": "success"}
        )
        assert autopost.status_code == 200, autopost.text
        form = form_of(autopost.text, "autopost")
        assert form["action"] == PUBLIC_BASE + "/saml/acs", form["action"]
        return form

    def post_acs(self, form: dict, **kw) -> requests.Response:
        return self.send("POST", form["action"], data=form["fields"], **kw)

    def logged_in_as(self) -> str | None:
        """The name on the logged-in page, or None if the page sends us to log in."""
        page = self.send("GET", "/mina-sidor")
        assert page.status_code in (200, 302), page.text
        if page.status_code == 302:
            return None
        marker = 'data-testid="display-name">'
        return page.text.split(marker, 1)[1].split("<", 1)[0].strip() if marker in page.text else None


def held(name: str, seconds: float) -> dict[str, str]:
    """Headers that make the worker probe note the request as received, then hold it ``seconds``."""
    return {HOLD_HEADER: str(seconds), NAME_HEADER: name}


def worker_of(response: requests.Response) -> int:
    return int(response.headers[PID_HEADER])


class InFlight(threading.Thread):
    """One request sent from its own thread; ``response`` or ``error`` once it ends."""

    def __init__(self, send, *args, **kw) -> None:
        super().__init__(daemon=True)
        self._call = (send, args, kw)
        self.response: requests.Response | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        send, args, kw = self._call
        try:
            self.response = send(*args, **kw)
        except BaseException as exc:  # a reset connection is what the test looks for
            self.error = exc


class ProxiedConnection(http.client.HTTPConnection):
    """A connection from the TLS proxy: it opens with a PROXY protocol v1 line naming ``client`` as the client."""

    def __init__(self, port: int, client: str | None) -> None:
        super().__init__("127.0.0.1", port, timeout=30)
        self.client = client

    def connect(self) -> None:
        super().connect()
        if self.client is not None:
            self.sock.sendall(f"PROXY TCP4 {self.client} 127.0.0.1 50000 443\r\n".encode("ascii"))


def proxied_get(server: GunicornServer, path: str, *, client: str | None, headers: dict | None = None):
    """``GET path`` as the proxy sends it (``client=None``: a connection without a PROXY line); (status, headers)."""
    connection = ProxiedConnection(server.port, client)
    try:
        connection.request("GET", path, headers={"Host": PUBLIC_HOST, **(headers or {})})
        response = connection.getresponse()
        response.read()
        return response.status, response.headers
    finally:
        connection.close()
