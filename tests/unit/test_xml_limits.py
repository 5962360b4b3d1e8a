# SPDX-License-Identifier: Apache-2.0
"""ekn_saml.xml_limits: each cap on a document's shape, at its boundary, through the one parse."""

from __future__ import annotations

import pytest

from ekn_saml.errors import ErrorCode, SamlError
from ekn_saml.xml_limits import MESSAGE_LIMITS, METADATA_LIMITS, XmlLimits
from ekn_saml.xmlsecurity import parse_xml


def refused(data: bytes, limits: XmlLimits = MESSAGE_LIMITS) -> ErrorCode:
    with pytest.raises(SamlError) as caught:
        parse_xml(data, limits=limits)
    return caught.value.code


def elements(count: int) -> bytes:
    return b"<r>" + b"<a/>" * (count - 1) + b"</r>"


def attributes(count: int) -> bytes:
    return b"<r " + b" ".join(b'a%04d=""' % i for i in range(count)) + b"/>"


def nested(depth: int) -> bytes:
    return b"<a>" * depth + b"</a>" * depth


def declarations(count: int) -> bytes:
    return b"<r " + b" ".join(b'xmlns:p%d="urn:p:%d"' % (i, i) for i in range(count)) + b"/>"


LIMITS = XmlLimits(max_nodes=100, max_attributes=10, max_depth=8, max_namespaces=5)


# ------------------------------------------------------------ nodes, counted before parsing


def test_nodes_up_to_the_cap_are_parsed():
    assert parse_xml(elements(100), limits=LIMITS) is not None


def test_one_node_over_the_cap_is_refused():
    assert refused(elements(101), LIMITS) == ErrorCode.XML_TOO_MANY_NODES


def test_attributes_count_as_nodes():
    assert refused(b"<r>" + b'<a x="1"/>' * 51 + b"</r>", LIMITS) == ErrorCode.XML_TOO_MANY_NODES


def test_the_node_cap_comes_before_parsing():
    """Not even well-formed: the bytes alone are over the cap, so libxml2 never reads them."""
    assert refused(b"<a>" * 200, LIMITS) == ErrorCode.XML_TOO_MANY_NODES


def test_end_tags_do_not_count_as_nodes():
    assert parse_xml(b"<r>" + b"<a></a>" * 99 + b"</r>", limits=LIMITS) is not None


# ------------------------------------------------------------ attributes of one element


def test_attributes_up_to_the_cap_are_parsed():
    assert parse_xml(attributes(10), limits=LIMITS).get("a0009") == ""


def test_one_attribute_over_the_cap_is_refused():
    assert refused(attributes(11), LIMITS) == ErrorCode.XML_TOO_MANY_ATTRIBUTES


def test_namespaced_attributes_count_too():
    data = b'<r xmlns:x="urn:x" ' + b" ".join(b'x:a%d=""' % i for i in range(11)) + b"/>"
    assert refused(data, LIMITS) == ErrorCode.XML_TOO_MANY_ATTRIBUTES


def test_the_attribute_cap_is_per_element():
    data = b"<r>" + b"".join(b"<e " + b" ".join(b'a%d=""' % i for i in range(10)) + b"/>" for _ in range(3)) + b"</r>"
    assert parse_xml(data, limits=LIMITS) is not None


def test_an_element_deep_in_the_tree_is_checked():
    assert refused(b"<r><a><b>" + attributes(11) + b"</b></a></r>", LIMITS) == ErrorCode.XML_TOO_MANY_ATTRIBUTES


# ------------------------------------------------------------ depth


def test_nesting_up_to_the_cap_is_parsed():
    assert parse_xml(nested(8), limits=LIMITS) is not None


def test_one_level_over_the_cap_is_refused():
    assert refused(nested(9), LIMITS) == ErrorCode.XML_TOO_DEEP


# ------------------------------------------------------------ namespace declarations


def test_declarations_up_to_the_cap_are_parsed():
    assert parse_xml(declarations(5), limits=LIMITS) is not None


def test_one_declaration_over_the_cap_is_refused():
    assert refused(declarations(6), LIMITS) == ErrorCode.XML_TOO_MANY_NAMESPACES


def test_declarations_anywhere_in_the_document_count():
    data = b"<r>" + b"".join(b'<a xmlns:p%d="urn:p"/>' % i for i in range(6)) + b"</r>"
    assert refused(data, LIMITS) == ErrorCode.XML_TOO_MANY_NAMESPACES


# ------------------------------------------------------------ the two sets of limits


def test_a_message_is_held_to_the_message_limits_by_default():
    assert refused(elements(MESSAGE_LIMITS.max_nodes + 1)) == ErrorCode.XML_TOO_MANY_NODES


def test_metadata_may_be_large():
    """An aggregate grows with its federation; its cost is bounded by its size cap, not a node count."""
    assert parse_xml(elements(50_000), limits=METADATA_LIMITS) is not None


def test_metadata_keeps_the_attribute_cap():
    """What canonicalisation sorts in quadratic time stays capped for metadata too."""
    assert refused(attributes(METADATA_LIMITS.max_attributes + 1), METADATA_LIMITS) == ErrorCode.XML_TOO_MANY_ATTRIBUTES


def test_a_whole_document_signature_does_not_lift_the_caps():
    """Federation metadata skips the ID and namespace walks (its signature covers them), not the caps."""
    with pytest.raises(SamlError) as caught:
        parse_xml(attributes(METADATA_LIMITS.max_attributes + 1), whole_document_signed=True, limits=METADATA_LIMITS)
    assert caught.value.code == ErrorCode.XML_TOO_MANY_ATTRIBUTES
