# SPDX-License-Identifier: Apache-2.0
"""ekn-saml metadata (ekn_saml.cli.metadata): the SP metadata, schema-valid, signed on request."""

from __future__ import annotations

import os

from lxml import etree

from ekn_saml.cli import main
from ekn_saml.metadata.schema import schema_errors
from ekn_saml.xmlsecurity import PublicKey, parse_xml, verify_enveloped

from cli_cases import write_ini


class TestMetadata:
    def test_prints_schema_valid_metadata(self, ini, capsysbinary):
        assert main(["metadata", ini]) == 0
        assert schema_errors(etree.fromstring(capsysbinary.readouterr().out)) == []

    def test_writes_signed_metadata(self, ini, tmp_path, key_dir):
        out = tmp_path / "sp-metadata.xml"
        assert main(["metadata", ini, "--sign", "--out", str(out)]) == 0
        root = parse_xml(out.read_bytes())
        with open(os.path.join(key_dir, "sp-signing.crt"), "rb") as fh:
            verify_enveloped(root, [PublicKey.from_pem(fh.read())])
        assert root.get("validUntil")

    def test_keys_that_do_not_match_are_a_configuration_error(self, tmp_path, app_settings, key_dir, capsys):
        bad = write_ini(
            tmp_path / "bad.ini", {**app_settings, "ekn_saml.sp.signing_cert": os.path.join(key_dir, "idp.crt")}
        )
        assert main(["metadata", bad]) == 2
        assert "does not belong" in capsys.readouterr().err
