# SPDX-License-Identifier: Apache-2.0
"""The privacy guard (tests/privacy_guard.py) that checks every log line of the run.

The check of the whole run happens when the session ends; these tests make
sure the guard is on, what it counts as a full personal identity number,
and that a leaking run really fails.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

import privacy_guard
from acs_helpers import PNR
from privacy_guard import (
    PersonalNumberFinder,
    known_test_numbers,
    known_test_prids,
    looks_like_personal_number,
    mask_all,
)

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FINDER = PersonalNumberFinder(known_test_numbers(), known_test_prids())


def test_the_guard_is_on_the_root_logger_for_the_whole_run():
    assert privacy_guard.guard() in logging.getLogger().handlers


def test_the_guard_sees_our_info_lines():
    before = privacy_guard.guard().checked
    logging.getLogger("ekn_saml.test").info("an INFO line of ours")
    assert privacy_guard.guard().checked == before + 1


def test_the_personas_and_the_tests_numbers_are_known():
    assert {PNR, "196506151239", "199003652386"} <= known_test_numbers()


@pytest.mark.parametrize("prid", ["NO:01018099887", "DE:4f2a9c81d07e3b56"])
def test_an_eidas_personas_prid_is_found(prid):
    assert FINDER.find(f"subject=prid:{prid} logged in")


def test_a_masked_prid_is_not_found():
    assert not FINDER.find("subject=prid:NO:0101809XXXX logged in")


def test_an_eidas_personas_mapped_number_is_known():
    assert "197903150006" in known_test_numbers()


@pytest.mark.parametrize("form", [PNR, f"{PNR[:8]}-{PNR[8:]}", PNR[2:], f"{PNR[2:8]}-{PNR[8:]}"])
def test_a_known_number_is_found_in_any_form(form):
    assert FINDER.find(f"subject={form} logged in")


def test_any_plausible_number_is_found():
    assert looks_like_personal_number("194612190043") and FINDER.find("pnr 19461219-0043 seen")


FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.parametrize("digits", [FULLWIDTH, ARABIC_INDIC], ids=["fullwidth", "arabic-indic"])
def test_a_number_in_other_digits_is_found(digits):
    assert FINDER.find("pnr 19461219-0043 seen".translate(digits))


@pytest.mark.parametrize("digits", [FULLWIDTH, ARABIC_INDIC], ids=["fullwidth", "arabic-indic"])
def test_a_known_number_in_other_digits_is_found(digits):
    assert FINDER.find(f"subject={PNR[2:]}".translate(digits))


def test_a_samordningsnummer_is_found():
    assert looks_like_personal_number("199003652386")


@pytest.mark.parametrize(
    "text",
    [
        "subject=pnr:19800101-XXXX",  # the masked form is what may be logged
        "198001012388",  # wrong check digit
        "19800101238",  # eleven digits
        "20261128093000",  # a timestamp: fourteen digits
        "_a4924456404d82d8579efa1b797ef857b",  # an assertion ID
        "EKN-SIG-002 ref=5E0687F7C6",
    ],
)
def test_other_text_is_not_a_hit(text):
    assert not FINDER.find(text)


def test_the_failure_report_masks_the_number():
    assert mask_all(f"subject {PNR}") == f"subject {PNR[:8]}-XXXX"


def test_a_run_that_logs_a_full_number_fails(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_leak.py").write_text(
        f"import logging\ndef test_leak():\n    logging.getLogger('ekn_saml.leak').warning('subject %s', '{PNR}')\n"
    )
    env = {**os.environ, "PYTHONPATH": TESTS}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "privacy_guard",
            "-p",
            "no:cacheprovider",
            "-q",
            str(tmp_path / "test_leak.py"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode != 0
    assert "privacy guard: full personal identity numbers in log lines" in run.stdout
    assert PNR not in run.stdout and f"{PNR[:8]}-XXXX" in run.stdout
