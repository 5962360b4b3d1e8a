# SPDX-License-Identifier: Apache-2.0
"""Test-only Pyramid include for the gunicorn tests: which worker answered, and requests held in flight.

Named in the test server's ini (``pyramid.includes = worker_probe``, with
``tests/multinode`` on ``PYTHONPATH``); the plugin knows nothing of it.
Its tween, outermost (under ``INGRESS``), does two things:

* every response carries ``X-Worker-Pid``, the process id of the worker
  that answered, so a test can tell gunicorn's workers apart;
* a request with ``X-Test-Hold: <seconds>`` (at most :data:`MAX_HOLD`)
  first writes a file named by its ``X-Test-Request`` header into the
  directory of the setting ``worker_probe.entered_dir`` (so the test knows
  the worker has received it), then waits that long and only then goes
  down to the app: a request that is certainly being answered when the
  test stops the server.
"""

from __future__ import annotations

import os
import re
import time

from pyramid.tweens import INGRESS

PID_HEADER = "X-Worker-Pid"
HOLD_HEADER = "X-Test-Hold"
NAME_HEADER = "X-Test-Request"
ENTERED_DIR_SETTING = "worker_probe.entered_dir"
MAX_HOLD = 10.0
_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")


def worker_tween_factory(handler, registry):
    entered_dir = registry.settings.get(ENTERED_DIR_SETTING)

    def worker_tween(request):
        hold = request.headers.get(HOLD_HEADER)
        if hold is not None:
            name = request.headers.get(NAME_HEADER, "")
            if entered_dir and _NAME.fullmatch(name):
                with open(os.path.join(entered_dir, name), "w") as fh:
                    fh.write(str(os.getpid()))
            time.sleep(min(float(hold), MAX_HOLD))  # the test's in-flight window
        response = handler(request)
        response.headers[PID_HEADER] = str(os.getpid())
        return response

    return worker_tween


def includeme(config):
    config.add_tween("worker_probe.worker_tween_factory", under=INGRESS)
