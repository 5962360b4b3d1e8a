# SPDX-License-Identifier: Apache-2.0
"""Prints how many inputs each fuzz target tried (see fuzzing.py)."""

from __future__ import annotations

import json
import os

from fuzzing import LONG_RUN, TALLIES


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not TALLIES:
        return
    mode = f"long run, EKN_FUZZ_EXAMPLES={LONG_RUN}" if LONG_RUN else "short run"
    terminalreporter.write_sep("-", f"fuzzing ({mode})")
    total = sum(t.inputs for t in TALLIES.values())
    for name, t in sorted(TALLIES.items()):
        top = ", ".join(f"{k} {v}" for k, v in t.outcomes.most_common(6))
        terminalreporter.write_line(
            f"{name}: {t.inputs} inputs in {t.seconds:.0f} s, {t.http_5xx} 5xx, {t.unhandled} unhandled, "
            f"{t.forgeries} accepted forgeries [{top}]"
        )
        for finding in t.findings:
            terminalreporter.write_line(f"  finding: {finding}")
    terminalreporter.write_line(
        f"total: {total} inputs, {sum(t.http_5xx for t in TALLIES.values())} 5xx, "
        f"{sum(t.unhandled for t in TALLIES.values())} unhandled, {sum(t.forgeries for t in TALLIES.values())} accepted forgeries"
    )
    report = os.environ.get("EKN_FUZZ_REPORT")
    if report:
        os.makedirs(os.path.dirname(os.path.abspath(report)), exist_ok=True)
        with open(report, "w", encoding="utf-8") as fh:
            json.dump(
                {"mode": mode, "total_inputs": total, "targets": {k: v.as_dict() for k, v in TALLIES.items()}},
                fh,
                indent=1,
            )
