# SPDX-License-Identifier: Apache-2.0
"""pysaml2 stays behind one module of ours."""

import pathlib
import re

PACKAGE = pathlib.Path(__file__).parents[2] / "ekn_saml"


def test_only_the_bridge_imports_pysaml2():
    importers = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if re.search(r"^\s*(from saml2\b|import saml2\b)", path.read_text(encoding="utf-8"), re.M)
    ]
    assert importers == ["pysaml2_bridge.py"]


def test_the_sp_does_not_load_pysaml2_without_the_development_idp(app_settings):
    import subprocess
    import sys

    code = (
        "import sys, json; from ekn_saml.demo import main; "
        f"main({{}}, **json.loads({__import__('json').dumps(__import__('json').dumps(app_settings))})); "
        "print('saml2' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
