# SPDX-License-Identifier: Apache-2.0
"""The one loader of trusted IdP metadata files (ekn_saml.idp.metadata_files) that the app and the command share."""

from __future__ import annotations

from ekn_saml.metadata.idp import load_idp_metadata_files
from ekn_saml.timeutil import utcnow
from ekn_saml.xmlsecurity import NS

from testbed import BANKID_IDP, idp_entity


def test_every_idp_of_every_file_is_loaded(idp_metadata_file):
    idps, problems = load_idp_metadata_files([idp_metadata_file], now=utcnow())
    assert BANKID_IDP in idps and problems == []


def test_a_missing_file_is_a_problem_named_by_the_setting_and_the_others_still_load(tmp_path, idp_metadata_file):
    idps, problems = load_idp_metadata_files([str(tmp_path / "gone.xml"), idp_metadata_file], now=utcnow())
    assert BANKID_IDP in idps
    assert len(problems) == 1 and problems[0].startswith("ekn_saml.idp.metadata_files:")


def test_a_file_that_is_not_metadata_is_a_problem(tmp_path):
    path = tmp_path / "not-metadata.xml"
    path.write_bytes(b"<html/>")
    idps, problems = load_idp_metadata_files([str(path)], now=utcnow())
    assert idps == {} and len(problems) == 1


def test_an_expired_document_is_a_problem(tmp_path, idp_keys):
    path = tmp_path / "expired.xml"
    path.write_text(
        f'<md:EntitiesDescriptor xmlns:md="{NS["md"]}" xmlns:ds="{NS["ds"]}" xmlns:shibmd="{NS["shibmd"]}" '
        f'validUntil="2001-01-01T00:00:00Z">{idp_entity(BANKID_IDP, idp_keys[1])}</md:EntitiesDescriptor>'
    )
    idps, problems = load_idp_metadata_files([str(path)], now=utcnow())
    assert idps == {} and len(problems) == 1
