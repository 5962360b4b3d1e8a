# SPDX-License-Identifier: Apache-2.0
"""The ``own_redis`` fixture: a throwaway redis-server the test may stop, freeze and restart.

Used by the store-level and the app-level Redis outage tests.  Without
redis-server the fixture fails under CI (never a silent skip) and skips
loudly elsewhere.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from ekn_saml.testing import free_port


class OwnRedisServer:
    """A throwaway ``redis-server`` on a free port; always killed by the fixture."""

    def __init__(self, binary: str, port: int, logdir) -> None:
        self.binary = binary
        self.port = port
        self.logfile = logdir / "redis.log"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        log = open(self.logfile, "ab")
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited ({self.proc.returncode}): {self.logfile.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not answer within 10 s")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait(timeout=10)

    def pause(self) -> None:
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.proc.pid, signal.SIGCONT)


def redis_server_binary(needed_by: str) -> str:
    """The redis-server program; fails under CI, skips loudly elsewhere, when it is missing.

    ``needed_by`` names the tests that cannot run without it, for the message.
    """
    binary = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None
    )
    if binary is None:
        message = f"redis-server is not installed (apt-get install redis-server), so {needed_by} cannot run"
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(message, pytrace=False)
        pytest.skip("!!! " + message)
    return binary


@pytest.fixture
def own_redis(request, tmp_path):
    server = OwnRedisServer(redis_server_binary("the stop/restart test"), free_port(), tmp_path)

    def finalize():
        if server.proc is not None and server.proc.poll() is None:
            try:
                server.resume()  # a stopped process would ignore SIGTERM; SIGKILL works anyway
            except ProcessLookupError:
                pass
            server.kill()

    request.addfinalizer(finalize)
    server.start()
    return server
