# SPDX-License-Identifier: Apache-2.0
"""ekn_saml.xmlsec_check: a broken XML security stack is reported at startup, with the fix.

The version functions and transform constants are monkeypatched to stand
for the broken installs; the checks themselves run for real.
"""

from __future__ import annotations

import importlib.abc
import sys

import pytest
import xmlsec
from lxml import etree
from pyramid.exceptions import ConfigurationExecutionError

from ekn_saml import xml_schema, xmlsec_check
from ekn_saml.demo import main
from ekn_saml.errors import ConfigurationError, ErrorCode


@pytest.fixture(autouse=True)
def fresh_result(monkeypatch):
    """Each test starts without the once-per-process result, and leaves none behind."""
    monkeypatch.setattr(xmlsec_check, "_result", None)
    yield
    xmlsec_check._result = None


def _problems() -> list[str]:
    with pytest.raises(ConfigurationError) as caught:
        xmlsec_check.check_xmlsec(again=True)
    assert caught.value.code == ErrorCode.CONFIGURATION_INVALID
    return caught.value.problems


def test_this_install_passes():
    xmlsec_check.check_xmlsec(again=True)


def test_xmlsec_running_another_libxml2_than_lxml_is_reported(monkeypatch):
    # python-xmlsec built from source on Debian's libxml2 2.9 beside lxml's wheel (pysaml2-notes)
    monkeypatch.setattr(xmlsec, "get_libxml_version", lambda: (2, 9, 14))
    monkeypatch.setattr(xmlsec, "get_libxml_compiled_version", lambda: (2, 9, 14))
    [problem] = _problems()
    assert "lxml & xmlsec libxml2 library version mismatch" in problem
    assert xmlsec_check.KNOWN_GOOD.split()[1] in problem  # says which wheels to install


def test_lxml_running_another_libxml2_than_xmlsec_is_reported(monkeypatch):
    monkeypatch.setattr(etree, "LIBXML_VERSION", (2, 12, 0))
    monkeypatch.setattr(etree, "LIBXML_COMPILED_VERSION", (2, 12, 0))
    [problem] = _problems()
    assert "2.12.0" in problem and "pip install" in problem


def test_a_patch_level_difference_is_not_a_mismatch(monkeypatch):
    major, minor, patch = etree.LIBXML_VERSION
    monkeypatch.setattr(xmlsec, "get_libxml_version", lambda: (major, minor, patch + 1))
    xmlsec_check.check_xmlsec(again=True)


def test_xmlsec_built_against_another_libxml2_is_reported(monkeypatch):
    monkeypatch.setattr(xmlsec, "get_libxml_compiled_version", lambda: (2, 9, 14))
    [problem] = _problems()
    assert "built against libxml2 2.9.14" in problem


@pytest.mark.parametrize("transform", ["AES256_GCM", "AES128_GCM", "RSA_OAEP", "RSA_SHA256"])
def test_a_missing_algorithm_is_reported(monkeypatch, transform):
    monkeypatch.delattr(xmlsec.Transform, transform)
    [problem] = _problems()
    assert transform in problem and "pip install" in problem


def test_an_algorithm_that_is_named_but_cannot_run_is_reported(monkeypatch):
    # AES-256-GCM that is really a digest: the encryption round trip fails for real
    monkeypatch.setattr(xmlsec.Transform, "AES256_GCM", xmlsec.Transform.SHA256)
    [problem] = _problems()
    assert "AES-256-GCM" in problem


def test_missing_saml_schemas_are_reported(monkeypatch, tmp_path):
    monkeypatch.setattr(xml_schema, "_SCHEMA", None)
    monkeypatch.setattr(xml_schema, "schema_directory", lambda: str(tmp_path))
    [problem] = _problems()
    assert "pysaml2" in problem


class _MismatchedXmlsec(importlib.abc.MetaPathFinder):
    """Stands for a python-xmlsec whose import fails as it does on a libxml2 mismatch."""

    def find_spec(self, name, path, target=None):
        if name == "xmlsec":
            raise RuntimeError("(-1, 'lxml & xmlsec libxml2 library version mismatch')")
        return None


def test_xmlsec_that_refuses_to_import_gives_the_fix(monkeypatch):
    monkeypatch.delitem(sys.modules, "xmlsec")
    monkeypatch.setattr(sys, "meta_path", [_MismatchedXmlsec(), *sys.meta_path])
    with pytest.raises(ConfigurationError) as caught:
        xmlsec_check.load_xmlsec()
    assert caught.value.code == ErrorCode.CONFIGURATION_INVALID
    assert "--only-binary" in caught.value.problems[0]


def test_xmlsec_not_installed_gives_the_fix(monkeypatch):
    monkeypatch.setitem(sys.modules, "xmlsec", None)
    with pytest.raises(ConfigurationError) as caught:
        xmlsec_check.load_xmlsec()
    assert "pip install" in caught.value.problems[0]


def test_checks_run_once_per_process(monkeypatch):
    xmlsec_check.check_xmlsec()
    monkeypatch.setattr(xmlsec, "get_libxml_version", lambda: (2, 9, 14))
    monkeypatch.setattr(xmlsec, "get_libxml_compiled_version", lambda: (2, 9, 14))
    xmlsec_check.check_xmlsec()  # the first result stands
    assert _problems()  # until asked again


def test_includeme_refuses_to_start_on_a_mismatch(monkeypatch, app_settings):
    monkeypatch.setattr(xmlsec, "get_libxml_version", lambda: (2, 9, 14))
    monkeypatch.setattr(xmlsec, "get_libxml_compiled_version", lambda: (2, 9, 14))
    with pytest.raises(ConfigurationExecutionError) as caught:
        main({}, **app_settings)
    assert any("version mismatch" in problem for problem in caught.value.evalue.problems)


def test_installed_libxml2_refuses_to_canonicalise_a_relative_namespace():
    assert xmlsec_check.canonicalisation_problems() == []


def test_a_libxml2_that_canonicalises_a_relative_namespace_is_reported(monkeypatch):
    monkeypatch.setattr(xmlsec_check, "_canonicalises", lambda xml: True)
    (problem,) = xmlsec_check.canonicalisation_problems()
    assert "relative namespace" in problem


def test_a_libxml2_that_canonicalises_nothing_is_reported(monkeypatch):
    monkeypatch.setattr(xmlsec_check, "_canonicalises", lambda xml: False)
    (problem,) = xmlsec_check.canonicalisation_problems()
    assert "cannot canonicalise" in problem


def test_startup_refuses_libraries_that_fail_the_canonicalisation_probe(monkeypatch):
    monkeypatch.setattr(xmlsec_check, "canonicalisation_problems", lambda: ["probe failed"])
    assert _problems() == ["probe failed"]
