# SPDX-License-Identifier: Apache-2.0
"""The error codes are a public contract (ekn_saml.errors): README.md lists every one, as it is."""

from __future__ import annotations

import re
from pathlib import Path

from ekn_saml.errors import ErrorCode, family_of

README = Path(__file__).resolve().parents[2] / "README.md"
ROW = re.compile(r"^\| `(EKN-[A-Z]+-\d{3})` \| (\w+) \| (\w+) \|$", re.MULTILINE)


def test_readme_error_code_table_matches_the_codes():
    documented = {code: (name, family) for code, name, family in ROW.findall(README.read_text(encoding="utf-8"))}
    actual = {code.value: (code.name, family_of(code).value) for code in ErrorCode}
    assert documented == actual
