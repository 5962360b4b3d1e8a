# SPDX-License-Identifier: Apache-2.0
"""The one safe parse (ekn_saml.xmlsecurity.parse): no DTD, no relative namespaces, no ID pollution; strict lookups."""

from __future__ import annotations

import pytest
from lxml import etree

from ekn_saml.errors import ErrorCode, SamlError
from ekn_saml.xmlsecurity import child, children, children_at, parse_xml

from xml_cases import code_of

# ------------------------------------------------------------ the safe parse


@pytest.mark.parametrize("attribute", ['p:ID="_b"', 'p:Id="_b"', 'p:ID = "_b"', "p:ID\n='_b'"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_namespaced_id_attribute_is_refused(attribute, encoding):
    # utf-16: the bytes cannot be searched for it, so the full check must run
    xml = f'<?xml version="1.0" encoding="{encoding}"?><a ID="_a"><b xmlns:p="urn:x" {attribute}/></a>'
    assert code_of(parse_xml, xml.encode(encoding)) == ErrorCode.XML_DUPLICATE_ID


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
@pytest.mark.parametrize("names", [("ID", "ID"), ("ID", "Id"), ("Id", "Id")])
def test_an_id_value_twice_is_refused(encoding, names):
    xml = f'<?xml version="1.0" encoding="{encoding}"?><a {names[0]}="_a"><b {names[1]}="_a"/></a>'
    assert code_of(parse_xml, xml.encode(encoding)) == ErrorCode.XML_DUPLICATE_ID


def test_text_that_looks_like_a_namespaced_id_is_not_refused():
    root = parse_xml(b'<a ID="_a"><b>see p:ID="x" in the text</b><c ID="_c"/></a>')
    assert root.get("ID") == "_a"


@pytest.mark.parametrize(
    "document",
    [
        b'<!DOCTYPE r [<!ENTITY a "b">]><r/>',
        b'\xef\xbb\xbf<?xml version="1.0"?>\n<?pi x?><!-- a comment -->\n<!DOCTYPE r><r/>',
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY a "b">]><r/>'.encode("utf-16"),
        "<!DOCTYPE r><r/>".encode("utf-16-le"),
        "<!DOCTYPE r><r/>".encode("utf-16-be"),
    ],
    ids=["plain", "after-prolog", "utf-16-bom", "utf-16-le", "utf-16-be"],
)
def test_a_dtd_is_refused_before_the_parser_reads_it(monkeypatch, document):
    def parser_reached(*args, **kwargs):
        raise AssertionError("a DTD reached libxml2")

    monkeypatch.setattr(etree, "fromstring", parser_reached)
    assert code_of(parse_xml, document) == ErrorCode.XML_DTD_FORBIDDEN


def test_doctype_text_inside_a_comment_is_not_a_dtd():
    assert parse_xml(b"<!-- <!DOCTYPE r> --><r/>").tag == "r"


def test_doctype_after_the_root_element_is_malformed():
    assert code_of(parse_xml, b"<r/><!DOCTYPE r>") == ErrorCode.XML_MALFORMED


def test_an_undeclared_entity_reference_cannot_be_parsed():
    # parse_xml looks for no entity node: without a DTD libxml2 refuses any reference
    assert code_of(parse_xml, b"<a>&ext;</a>") == ErrorCode.XML_MALFORMED


@pytest.mark.parametrize("declaration", ['xmlns:p="relative"', 'xmlns="relative"', 'xmlns=""'])
def test_relative_namespace_declaration_is_refused(declaration):
    assert code_of(parse_xml, f"<a><b {declaration}/></a>".encode()) == ErrorCode.XML_NAMESPACE_INVALID


def test_a_parse_failure_names_the_kind_of_error_not_the_text():
    """libxml2's message quotes the document; the detail says what and where only."""
    with pytest.raises(SamlError) as caught:
        parse_xml(b"<r><value>198001012387</valu></r>")
    assert caught.value.code == ErrorCode.XML_MALFORMED
    assert "ERR_TAG_NAME_MISMATCH" in caught.value.detail and "198001012387" not in caught.value.detail


# ------------------------------------------------------------ child lookups


_LOOKUP_DOC = b'<a xmlns="urn:x" xmlns:y="urn:y"><b><c/><c>2</c><y:c/></b><b><c>3</c></b><y:b><c/></y:b><!-- c --></a>'


@pytest.mark.parametrize("tag", ["{urn:x}b", "{urn:y}b", "{urn:x}c", "{urn:x}none", "b"])
def test_children_and_child_find_what_findall_and_find_find(tag):
    root = etree.fromstring(_LOOKUP_DOC)
    assert children(root, tag) == root.findall(tag)
    assert child(root, tag) is root.find(tag)


@pytest.mark.parametrize(
    "tags", [("{urn:x}b", "{urn:x}c"), ("{urn:y}b", "{urn:x}c"), ("{urn:x}b", "{urn:y}c"), ("{urn:x}b", "{urn:x}none")]
)
def test_children_at_finds_what_a_findall_path_finds(tags):
    root = etree.fromstring(_LOOKUP_DOC)
    assert children_at(root, *tags) == root.findall("/".join(tags))
