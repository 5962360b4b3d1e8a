# SPDX-License-Identifier: Apache-2.0
"""What setup.py declares agrees with what the code enforces and says about itself."""

from __future__ import annotations

import ast
import pathlib

import ekn_saml
from ekn_saml.xmlsec_check import KNOWN_GOOD

ROOT = pathlib.Path(__file__).parents[2]


def _setup_call() -> dict:
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    call = next(
        node for node in ast.walk(tree) if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "setup"
    )
    return {kw.arg: kw.value for kw in call.keywords}


def _requirements() -> list[str]:
    return ast.literal_eval(_setup_call()["install_requires"])


def test_the_xml_pins_are_the_pair_the_startup_check_knows():
    """lxml and python-xmlsec must bundle one libxml2: install what xmlsec_check.KNOWN_GOOD names, no other."""
    declared = {r.split(">")[0].split("=")[0].split("<")[0]: r for r in _requirements()}
    assert {declared["lxml"], declared["xmlsec"]} == set(KNOWN_GOOD.split())


def test_the_redis_client_is_an_extra():
    """Only deployments with a Redis store need it (pip install 'ekn_saml[redis]')."""
    assert not any(r.startswith("redis") for r in _requirements())
    extras = ast.literal_eval(_setup_call()["extras_require"])
    assert any(r.startswith("redis") for r in extras["redis"])


def test_the_version_is_written_once():
    text = (ROOT / "setup.py").read_text(encoding="utf-8")
    assert "_version.py" in text and ekn_saml.__version__ not in text


def test_the_license_file_is_the_declared_license():
    assert "Apache License" in (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert ast.literal_eval(_setup_call()["license"]) == "Apache-2.0"


def test_gunicorn_is_a_production_and_test_extra():
    """The host app picks its server; production.ini.example's gunicorn comes with ekn_saml[production]."""
    assert not any(r.startswith("gunicorn") for r in _requirements())
    extras = ast.literal_eval(_setup_call()["extras_require"])
    for extra in ("production", "test"):
        assert any(r.startswith("gunicorn") for r in extras[extra]), extra
    assert any(r.startswith("redis") for r in extras["production"])  # its store is Redis


def test_prometheus_client_is_an_extra_of_its_own_and_of_production_and_test():
    """The plugin works without it (no /metrics); production.ini.example turns metrics on, make test tests them."""
    assert not any(r.startswith("prometheus_client") for r in _requirements())
    extras = ast.literal_eval(_setup_call()["extras_require"])
    for extra in ("metrics", "production", "test"):
        assert any(r.startswith("prometheus_client") for r in extras[extra]), extra
