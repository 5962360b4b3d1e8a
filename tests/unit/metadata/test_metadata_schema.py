# SPDX-License-Identifier: Apache-2.0
"""The SAML metadata schema set: real metadata passes, a schema error is named, nothing is fetched."""

from __future__ import annotations

import pytest
from lxml import etree

from ekn_saml.errors import ErrorCode, MetadataError
from ekn_saml.metadata.schema import _LocalSchemas, schema_errors, validate_metadata

from metadata_factory import fixture_bytes


def test_real_swedish_aggregate_is_valid():
    # it uses mdui, mdattr and an xsi:type from the query-requester extension
    assert schema_errors(etree.fromstring(fixture_bytes("sveleg-fedtest.xml"))) == []


def test_schema_error_is_metadata_invalid_with_the_line():
    with pytest.raises(MetadataError) as info:
        validate_metadata(etree.fromstring(fixture_bytes("sveleg-fedtest-badschema.xml")), source="test")
    assert info.value.code == ErrorCode.METADATA_INVALID
    assert "line 23" in info.value.detail


def test_unknown_extension_namespaces_are_skipped():
    md = "urn:oasis:names:tc:SAML:2.0:metadata"
    xml = f"""<md:EntityDescriptor xmlns:md="{md}" entityID="https://idp.example.test">
      <md:Extensions><x:Anything xmlns:x="urn:example:unknown"><x:Inner/></x:Anything></md:Extensions>
      <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
        <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.test/sso"/>
      </md:IDPSSODescriptor></md:EntityDescriptor>"""
    assert schema_errors(etree.fromstring(xml)) == []


def test_imports_outside_the_local_set_are_refused():
    with pytest.raises(OSError):
        _LocalSchemas("/nonexistent").resolve("http://example.test/evil.xsd", None, None)
