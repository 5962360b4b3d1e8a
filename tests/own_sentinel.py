# SPDX-License-Identifier: Apache-2.0
"""The ``own_sentinel`` fixture: a throwaway Redis master, one replica and three sentinels, all killed afterwards.

Every process is a ``redis-server`` of its own on a free port in the test's
tmp dir (sentinels are ``redis-server <conf> --sentinel``), with a short
``down-after-milliseconds`` so a killed master is replaced within seconds.
Without redis-server the fixture fails under CI (never a silent skip) and
skips loudly elsewhere, as ``own_redis`` does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import redis

from ekn_saml.testing import free_port

from own_redis import redis_server_binary

SERVICE = "ekn-test-master"
DOWN_AFTER_MS = 500
FAILOVER_TIMEOUT_MS = 3000


class SentinelCluster:
    """A master, a replica (``replicaof``) and three sentinels (quorum 2) on 127.0.0.1."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.procs: dict[str, subprocess.Popen] = {}
        self.ports: dict[str, int] = {}

    # --- processes -------------------------------------------------------------------
    def _spawn(self, name: str, args: list[str]) -> None:
        log = open(self.workdir / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen(
            [self.binary, *args], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.workdir
        )
        log.close()

    def _server_args(self, port: int) -> list[str]:
        return ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"]

    def start(self) -> None:
        for name in ("master", "replica", "sentinel-1", "sentinel-2", "sentinel-3"):
            self.ports[name] = free_port()
        self._spawn("master", self._server_args(self.ports["master"]))
        self._wait_ping("master")
        self._spawn(
            "replica",
            [*self._server_args(self.ports["replica"]), "--replicaof", "127.0.0.1", str(self.ports["master"])],
        )
        self._wait_ping("replica")
        for name in ("sentinel-1", "sentinel-2", "sentinel-3"):
            conf = self.workdir / f"{name}.conf"  # a sentinel rewrites its file: one each, writable
            conf.write_text(
                f"port {self.ports[name]}\n"
                "bind 127.0.0.1\n"
                f"sentinel monitor {SERVICE} 127.0.0.1 {self.ports['master']} 2\n"
                f"sentinel down-after-milliseconds {SERVICE} {DOWN_AFTER_MS}\n"
                f"sentinel failover-timeout {SERVICE} {FAILOVER_TIMEOUT_MS}\n"
                f"sentinel parallel-syncs {SERVICE} 1\n"
            )
            self._spawn(name, [str(conf), "--sentinel"])
        for name in ("sentinel-1", "sentinel-2", "sentinel-3"):
            self._wait_ping(name)
        self._wait_until_ready()

    def client(self, name: str) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.ports[name], socket_timeout=2, socket_connect_timeout=2)

    def _wait_ping(self, name: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.procs[name].poll() is not None:
                raise RuntimeError(f"{name} exited: {self.log(name)}")
            try:
                if self.client(name).ping():
                    return
            except redis.RedisError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{name} did not answer within {timeout} s: {self.log(name)}")

    def _wait_until_ready(self, timeout: float = 15.0) -> None:
        """Until the replica is in sync and every sentinel knows it and the two other sentinels."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._ready():
                return
            time.sleep(0.1)
        raise RuntimeError("the sentinels did not see the replica and each other in time")

    def _ready(self) -> bool:
        try:
            if self.client("replica").info("replication").get("master_link_status") != "up":
                return False
            for name in self.sentinel_names:
                sentinel = self.client(name)
                state = sentinel.sentinel_master(SERVICE)
                replicas = sentinel.sentinel_slaves(SERVICE)
                if state.get("num-other-sentinels", 0) < 2 or not [r for r in replicas if not r["is_sdown"]]:
                    return False
        except redis.RedisError:
            return False
        return True

    @property
    def sentinel_names(self) -> list[str]:
        return [n for n in self.procs if n.startswith("sentinel")]

    def master_port(self) -> int | None:
        """The master's port as the first sentinel that answers sees it."""
        for name in self.sentinel_names:
            try:
                address = self.client(name).sentinel_get_master_addr_by_name(SERVICE)
            except redis.RedisError:
                continue
            if address:
                return int(address[1])
        return None

    def wait_for_new_master(self, old_port: int, timeout: float = 20.0) -> int:
        """Until the sentinels name another master, and it answers as one; its port."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            port = self.master_port()
            if port is not None and port != old_port:
                try:
                    role = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1).info("replication")["role"]
                except redis.RedisError:
                    role = None
                if role == "master":
                    return port
            time.sleep(0.1)
        raise RuntimeError(f"no new master within {timeout} s: {self.log('sentinel-1')}")

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        if proc.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGCONT)  # a stopped process would not die of SIGTERM; SIGKILL works anyway
            except ProcessLookupError:
                pass
            proc.kill()
        proc.wait(timeout=10)

    def stop(self, name: str) -> None:
        """SIGSTOP: the process answers nothing but its sockets stay open (no FIN to the clients)."""
        os.kill(self.procs[name].pid, signal.SIGSTOP)

    def kill_all(self) -> None:
        for name in list(self.procs):
            try:
                self.kill(name)
            except Exception:
                pass

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def url(self, **options: str) -> str:
        hosts = ",".join(f"127.0.0.1:{self.ports[n]}" for n in self.sentinel_names)
        query = "&".join(f"{k}={v}" for k, v in options.items())
        return f"redis+sentinel://{hosts}/{SERVICE}/0" + (f"?{query}" if query else "")


@pytest.fixture
def own_sentinel(request, tmp_path):
    """A cluster for one test, which may kill, freeze or fail over its master."""
    cluster = SentinelCluster(redis_server_binary("the Sentinel tests"), tmp_path)
    request.addfinalizer(cluster.kill_all)  # before start: a failed start still stops what it started
    cluster.start()
    return cluster


@pytest.fixture(scope="session")
def shared_sentinel(request, tmp_path_factory):
    """One cluster for the whole run, for tests that only use it (the store contract): never kill its master."""
    cluster = SentinelCluster(redis_server_binary("the Sentinel tests"), tmp_path_factory.mktemp("sentinel"))
    request.addfinalizer(cluster.kill_all)
    cluster.start()
    return cluster
