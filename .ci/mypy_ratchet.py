#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""mypy, as a ratchet: the count of errors may only go down, and the core protocol modules have none.

Runs mypy with pyproject.toml's configuration over ekn_saml/, then

* fails if any error is in a core module (CORE below: the ACS, the identity
  mapping and the number checks, the AuthnRequest and the facts between them,
  XML security and the SAML schemas, the server keys);
* fails if there are more errors than BASELINE says;
* fails if there are fewer, asking for BASELINE to be lowered in the same
  change, so that what was fixed cannot come back unnoticed.

Usage: python .ci/mypy_ratchet.py [mypy executable]   (make test runs it)
"""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
BASELINE = HERE / "mypy-baseline"
CORE = (
    "ekn_saml/response.py",
    "ekn_saml/identity.py",
    "ekn_saml/authn_request.py",
    "ekn_saml/facts.py",
    "ekn_saml/numbers.py",
    "ekn_saml/constants.py",
    "ekn_saml/xmlsecurity",
    "ekn_saml/xml_limits.py",
    "ekn_saml/xml_schema.py",
    "ekn_saml/redirect_binding.py",
    "ekn_saml/server_keys.py",
)
_ERROR = re.compile(r"^(?P<path>[^:\s]+\.py):\d+: error: ", re.M)


def main() -> int:
    mypy = sys.argv[1] if len(sys.argv) > 1 else "mypy"
    result = subprocess.run([mypy], cwd=HERE.parent, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode not in (0, 1) or (result.returncode == 1 and "error: " not in result.stdout):
        sys.stdout.write(result.stdout + result.stderr)
        print("mypy ratchet: mypy did not run")
        return 2
    errors = [m.group("path") for m in _ERROR.finditer(result.stdout)]
    allowed = int(BASELINE.read_text(encoding="utf-8").split()[0])
    core = [line for line in result.stdout.splitlines() if line.startswith(CORE) and ": error: " in line]
    if core:
        print("\n".join(core))
        print(f"mypy ratchet: {len(core)} error(s) in the core protocol modules, which must have none")
        return 1
    if len(errors) > allowed:
        sys.stdout.write(result.stdout)
        print(f"mypy ratchet: {len(errors)} errors, more than the {allowed} of .ci/mypy-baseline")
        return 1
    if len(errors) < allowed:
        print(f"mypy ratchet: {len(errors)} errors, fewer than {allowed}: write {len(errors)} in .ci/mypy-baseline")
        return 1
    print(f"mypy ratchet: {len(errors)} errors (baseline {allowed}), none in the core protocol modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
