# SPDX-License-Identifier: Apache-2.0
"""Helpers of the XML security tests: the code a call fails with, a response built and parsed as it arrives."""

from __future__ import annotations

import pathlib

import pytest
from lxml import etree

from ekn_saml.errors import ErrorCode, SamlError
from ekn_saml.xmlsecurity import parse_xml

from saml_factory import ResponseSpec

# the real Swedish eID response, its signer and a broken twin (tests/data/swedish-eid/README.md)
SWEDISH = pathlib.Path(__file__).parent / "data" / "swedish-eid"


def code_of(call, *args, **kwargs) -> ErrorCode:
    """The error code ``call(*args, **kwargs)`` refuses with (it must refuse)."""
    with pytest.raises(SamlError) as caught:
        call(*args, **kwargs)
    return caught.value.code


def built(factory, spec: ResponseSpec) -> etree._Element:
    """The response ``factory`` builds for ``spec``, parsed again as a message arrives.

    lxml's find() cannot see the nodes xmlsec creates in memory until the
    tree has been serialised and parsed.
    """
    return parse_xml(etree.tostring(factory.build(spec)))
