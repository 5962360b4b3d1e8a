# SPDX-License-Identifier: Apache-2.0
"""The SAML schemas (ekn_saml.xml_schema): compiled once, from local copies only, checked per element."""

from __future__ import annotations

import pytest
from lxml import etree

from ekn_saml import xml_schema
from ekn_saml.errors import ErrorCode, SamlError
from ekn_saml.xmlsecurity import NS, check_schema, parse_xml

from acs_helpers import response_spec
from saml_factory import A
from xml_cases import SWEDISH, built, code_of


def test_schema_accepts_a_valid_response(response_factory):
    check_schema(built(response_factory, response_spec()))


def test_schema_refuses_an_unknown_attribute(response_factory):
    root = built(response_factory, response_spec(mutate_response=lambda r: r.set("Extra", "x")))
    assert code_of(check_schema, root) == ErrorCode.SCHEMA_INVALID


def test_schema_checks_an_element_as_its_own_root(response_factory):
    """A decrypted assertion is checked on its own, against the assertion schema."""
    root = built(response_factory, response_spec(encrypt=False))
    assertion = root.find("saml:Assertion", NS)
    check_schema(assertion)
    etree.SubElement(assertion, A + "Unknown")
    assert code_of(check_schema, assertion) == ErrorCode.SCHEMA_INVALID


def test_schema_is_compiled_once():
    assert xml_schema.saml_schema() is xml_schema.saml_schema()


def test_schema_imports_never_reach_the_network(tmp_path):
    resolver = xml_schema._LocalSchemas(xml_schema.schema_directory())
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(resolver)
    xsd = (
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:t">'
        '<xs:import namespace="urn:x" schemaLocation="http://attacker.example/evil.xsd"/></xs:schema>'
    )
    document = etree.fromstring(xsd.encode(), parser, base_url=str(tmp_path / "t.xsd"))
    with pytest.raises(etree.XMLSchemaParseError):
        etree.XMLSchema(document.getroottree())


def test_real_swedish_response_passes_the_schema():
    check_schema(parse_xml((SWEDISH / "signed-response.xml").read_bytes()))


def test_a_schema_failure_names_the_element_not_the_value(response_factory):
    """A personal identity number in a badly typed attribute once reached a warning this way."""
    root = response_factory.build(response_spec(sign_response=False, sign_assertion=False, encrypt=False))
    root.find("saml:Assertion", NS).set("IssueInstant", "198001012387")
    with pytest.raises(SamlError) as caught:
        check_schema(root)
    assert caught.value.code == ErrorCode.SCHEMA_INVALID
    assert "Assertion" in caught.value.detail and "198001012387" not in caught.value.detail
