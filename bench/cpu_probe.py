# SPDX-License-Identifier: Apache-2.0
"""Bench-only Pyramid include: the SP's CPU time per phase of a login, for ``bench/load.py``.

The load test names it in the measured server's ini
(``pyramid.includes = bench.cpu_probe``); it is never part of the plugin and
never in a production ini.  It adds:

* an outermost tween (under ``INGRESS``, so every other tween, the router's
  view lookup and the view itself are inside it) that measures the CPU time
  of the thread answering the request with :func:`time.thread_time_ns` and
  adds it to the sum of the request's *phase*: the ``X-Bench-Phase`` header
  the load client sends (one of :data:`PHASES`), else ``unlabelled``;
* ``GET /_bench/cpu``: those sums as JSON, plus this process's id.  The
  client reads it before and after the measured window and subtracts.

Why ``thread_time`` and not ``process_time`` deltas: waitress answers up to
50 requests at once, one per worker thread.  A ``process_time`` delta taken
around one request also counts every other thread's CPU during it, so it is
only right if requests are serialised under a lock, which would change what
is measured.  ``thread_time`` (``CLOCK_THREAD_CPUTIME_ID``, nanosecond
resolution on Linux) counts only the answering thread, whatever the others
do, and waiting for the GIL is not CPU time.

What it cannot see, and so the load tool reports as ``other`` (process CPU
from ``/proc`` minus the phases): waitress's main thread (accepting,
reading and parsing HTTP, writing responses out), the WSGI/router code
outside the tweens (building the request object), anything another thread
does for a request, and the process's background threads.  Its own cost is
two clock reads and one short lock per request (about a microsecond).
"""

from __future__ import annotations

import os
import threading
import time

from pyramid.response import Response
from pyramid.tweens import INGRESS

PHASE_HEADER = "X-Bench-Phase"
# what bench/load.py sends; anything else is summed as "unlabelled" so the table stays bounded
PHASES = ("start", "acs", "landing", "logout", "after_logout")
UNLABELLED = "unlabelled"
ROUTE_PATH = "/_bench/cpu"


class CpuSums:
    """Thread-safe sums of CPU nanoseconds and request counts per phase."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cpu_ns = dict.fromkeys((*PHASES, UNLABELLED), 0)
        self._requests = dict.fromkeys((*PHASES, UNLABELLED), 0)

    def add(self, phase: str, cpu_ns: int) -> None:
        with self._lock:
            self._cpu_ns[phase] += cpu_ns
            self._requests[phase] += 1

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "pid": os.getpid(),
                "cpu_ns": dict(self._cpu_ns),
                "requests": dict(self._requests),
            }


def cpu_tween_factory(handler, registry):
    sums: CpuSums = registry.bench_cpu_sums

    def cpu_tween(request):
        started = time.thread_time_ns()
        try:
            return handler(request)
        finally:
            phase = request.headers.get(PHASE_HEADER, UNLABELLED)
            sums.add(phase if phase in PHASES else UNLABELLED, time.thread_time_ns() - started)

    return cpu_tween


def cpu_view(request):
    response = Response(json=request.registry.bench_cpu_sums.snapshot())
    response.cache_control = "no-store"
    return response


def includeme(config):
    config.registry.bench_cpu_sums = CpuSums()
    config.add_tween("bench.cpu_probe.cpu_tween_factory", under=INGRESS)
    config.add_route("bench.cpu", ROUTE_PATH)
    config.add_view(cpu_view, route_name="bench.cpu", request_method="GET")
