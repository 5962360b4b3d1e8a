# SPDX-License-Identifier: Apache-2.0
"""``make bench``: every benchmark of bench/README.md in one run; the last line printed is JSON.

    python -m bench.run [--responses 200] [--logins 200] [--http-seconds 60]
                        [--concurrency 4] [--no-http] [--no-metadata]

Needs the ``xmlsec1`` program for pysaml2's default backend (``make bench``
installs Debian's when it can).  Keys are made once under var/bench/keys.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import time


def machine() -> dict:
    """What the figures were measured on, and how busy it was."""
    import lxml.etree
    import saml2
    import xmlsec

    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    program = shutil.which("xmlsec1")
    xmlsec1 = subprocess.run([program, "--version"], capture_output=True, text=True).stdout.strip() if program else None
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "lxml": ".".join(map(str, lxml.etree.LXML_VERSION[:3])),
        "libxml2": ".".join(map(str, lxml.etree.LIBXML_VERSION)),
        "python-xmlsec": xmlsec.__version__,
        "libxmlsec1": ".".join(map(str, xmlsec.get_libxmlsec_version())),
        "pysaml2": saml2.__version__ if hasattr(saml2, "__version__") else "7.5",
        "xmlsec1_program": xmlsec1,
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, default=200, help="ACS responses, each through (a), (b) and (c)")
    parser.add_argument("--authn-requests", type=int, default=200)
    parser.add_argument(
        "--forged-rounds", type=int, default=100, help="rounds of bench/bench_forged.py (valid + each forged shape)"
    )
    parser.add_argument("--logins", type=int, default=200, help="HTTP logins (bounded also by --http-seconds)")
    parser.add_argument("--http-seconds", type=float, default=60.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--no-metadata", action="store_true", help="skip bench/bench_metadata.py")
    options = parser.parse_args(argv)

    if not shutil.which("xmlsec1"):
        sys.exit(
            "bench: pysaml2's default backend needs the xmlsec1 program: apt-get install xmlsec1 (or run `make bench` as root)"
        )

    from .bench_acs import print_acs, print_authn, print_schema, run_acs, run_authn_requests, schema_cost
    from .bench_forged import print_forged, run_forged
    from .fixtures import bench_keys
    from .http_logins import print_http, run_http

    info = machine()
    load_before = os.getloadavg()
    print(f"ekn_saml bench, {dt.date.today().isoformat()}: {info['cpus']} x {info['cpu']}, Python {info['python']}")
    print(
        f"  lxml {info['lxml']} (libxml2 {info['libxml2']}), python-xmlsec {info['python-xmlsec']} "
        f"(libxmlsec1 {info['libxmlsec1']}), pysaml2 {info['pysaml2']}, {info['xmlsec1_program']}"
    )
    print(f"  load average before: {' '.join(f'{x:.2f}' for x in load_before)} (other work on this machine shows here)")
    started = time.monotonic()
    keys = bench_keys()

    acs = run_acs(keys, options.responses)
    print_acs(acs)
    schema = schema_cost(keys)
    print_schema(schema, acs)
    forged = run_forged(keys, options.forged_rounds)
    print_forged(forged)
    authn = run_authn_requests(keys, options.authn_requests)
    print_authn(authn)
    http = None
    if not options.no_http:
        http = run_http(keys.directory, options.logins, options.http_seconds, options.concurrency)
        print_http(http)

    metadata: dict = {}
    if not options.no_metadata and importlib.util.find_spec("bench.bench_metadata") is not None:
        print("metadata (bench/bench_metadata.py) ...")
        try:
            from . import bench_metadata

            metadata = bench_metadata.main(log=print)
        except Exception as exc:  # noqa: BLE001 - another engineer's bench must not hide ours
            print(f"  bench_metadata failed: {exc.__class__.__name__}: {exc}")
            metadata = {"metadata_error": f"{exc.__class__.__name__}: {exc}"}
    elif not options.no_metadata:
        print("metadata: bench/bench_metadata.py is not there; skipped")

    load_after = os.getloadavg()
    print(
        f"  load average after: {' '.join(f'{x:.2f}' for x in load_after)}; {time.monotonic() - started:.0f} s in all"
    )
    figures = {
        "date": dt.date.today().isoformat(),
        "acs_speedup_vs_pysaml2": acs["speedup_vs_pysaml2"],
        "acs_ratio_to_floor": acs["ratio_to_floor"],
        "acs_speedup_vs_pysaml2_cpu": acs["speedup_vs_pysaml2_cpu"],
        "acs_ratio_to_floor_cpu": acs["ratio_to_floor_cpu"],
        "acs_median_ms": {name: acs[name]["median_ms"] for name in ("pysaml2", "ekn_saml", "floor")},
        "acs_p95_ms": {name: acs[name]["p95_ms"] for name in ("pysaml2", "ekn_saml", "floor")},
        "acs_per_second": {name: acs[name]["per_second"] for name in ("pysaml2", "ekn_saml", "floor")},
        "acs_responses": acs["ekn_saml"]["n"],
        "acs_response_bytes": acs["response_bytes"],
        "pysaml2_processes_per_response": acs["pysaml2_processes_per_response"],
        "acs_goal_met": acs["speedup_vs_pysaml2"] >= 20 and acs["ratio_to_floor"] <= 1.5,
        "acs_forged_worst_ms": forged["worst_ms"],
        "acs_forged_worst_ratio": forged["worst_ratio"],
        "acs_forged_worst_shape": forged["worst"],
        "acs_forged_valid_median_ms": forged["valid"]["median_ms"],
        "acs_forged_median_ms": {name: forged[name]["median_ms"] for name in forged["bytes"]},
        "acs_forged_goal_met": forged["worst_ratio"] <= 2,
        "acs_schema_check_median_ms": schema["ekn_saml"]["median_ms"],
        "pysaml2_schema_check_median_ms": schema["pysaml2"]["median_ms"],
        "authn_request_median_ms": authn["ekn_saml"]["median_ms"],
        "authn_request_p95_ms": authn["ekn_saml"]["p95_ms"],
        "authn_request_per_second": authn["ekn_saml"]["per_second"],
        "authn_request_speedup_vs_pysaml2": authn["speedup_vs_pysaml2"],
        "http_logins_per_second": http["logins_per_second"] if http else None,
        "http_logins_completed": http["logins_completed"] if http else None,
        "http_acs_median_ms": http["acs_http"]["median_ms"] if http else None,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        **metadata,
    }
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
