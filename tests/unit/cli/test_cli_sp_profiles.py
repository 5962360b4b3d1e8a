# SPDX-License-Identifier: Apache-2.0
"""Every command with a second SP profile: its keys, its metadata, its checks."""

from __future__ import annotations

import os
import stat

from lxml import etree

from ekn_saml.cli import main
from ekn_saml.keygen import make_key_pair
from ekn_saml.metadata.schema import schema_errors
from ekn_saml.xmlsecurity import PublicKey, parse_xml, verify_enveloped

from cli_cases import ORGID_ENTITY, orgid_settings, write_ini


class TestSpProfiles:
    def test_metadata_of_a_profile(self, profiles_ini, capsysbinary):
        assert main(["metadata", profiles_ini, "--profile", "orgid"]) == 0
        root = etree.fromstring(capsysbinary.readouterr().out)
        assert schema_errors(root) == []
        assert root.get("entityID") == ORGID_ENTITY
        assert root.xpath(
            "//md:AssertionConsumerService/@Location", namespaces={"md": "urn:oasis:names:tc:SAML:2.0:metadata"}
        ) == ["https://sp.example.test/saml/acs/orgid"]

    def test_metadata_without_profile_is_the_default_profiles(self, profiles_ini, capsysbinary):
        assert main(["metadata", profiles_ini]) == 0
        assert etree.fromstring(capsysbinary.readouterr().out).get("entityID") == "https://sp.example.test/sp"

    def test_signed_metadata_of_a_profile_is_signed_with_its_key(self, profiles_ini, tmp_path, key_dir):
        out = tmp_path / "orgid-metadata.xml"
        assert main(["metadata", profiles_ini, "--profile", "orgid", "--sign", "--out", str(out)]) == 0
        with open(os.path.join(key_dir, "sp-orgid-signing.crt"), "rb") as fh:
            verify_enveloped(parse_xml(out.read_bytes()), [PublicKey.from_pem(fh.read())])

    def test_metadata_of_an_unknown_profile_is_a_usage_error(self, profiles_ini, capsys):
        assert main(["metadata", profiles_ini, "--profile", "orgi"]) == 2
        assert "the profiles are: default, orgid" in capsys.readouterr().err

    def test_keygen_makes_a_profiles_keys(self, profiles_ini, tmp_path, capsys):
        assert main(["keygen", profiles_ini, "--profile", "orgid", "--bits", "2048", "--dir", str(tmp_path / "k")]) == 0
        assert sorted(os.listdir(tmp_path / "k")) == [
            "sp-orgid-encryption.crt",
            "sp-orgid-encryption.key",
            "sp-orgid-signing.crt",
            "sp-orgid-signing.key",
        ]
        assert stat.S_IMODE(os.stat(tmp_path / "k" / "sp-orgid-signing.key").st_mode) == 0o600
        assert (
            f"ekn_saml.sp_profile.orgid.signing_key = {tmp_path / 'k' / 'sp-orgid-signing.key'}"
            in capsys.readouterr().err
        )

    def test_keygen_next_keys_of_a_profile(self, profiles_ini, tmp_path, capsys):
        assert (
            main(
                ["keygen", profiles_ini, "--profile", "orgid", "--next", "--bits", "2048", "--dir", str(tmp_path / "k")]
            )
            == 0
        )
        assert "sp-orgid-signing-next.key" in os.listdir(tmp_path / "k")
        assert "ekn_saml.sp_profile.orgid.next_signing_cert" in capsys.readouterr().err

    def test_keygen_for_a_profile_not_in_the_ini_is_a_usage_error(self, profiles_ini, tmp_path, capsys):
        assert main(["keygen", profiles_ini, "--profile", "orgi", "--dir", str(tmp_path / "k")]) == 2
        assert not os.path.exists(tmp_path / "k")
        assert "ekn_saml.sp_profiles" in capsys.readouterr().err

    def test_check_checks_every_profile(self, profiles_ini, capsys):
        assert main(["check", profiles_ini]) == 0
        err = capsys.readouterr().err
        assert f"SP profile orgid: {ORGID_ENTITY}, ACS https://sp.example.test/saml/acs/orgid" in err
        assert "SP profile orgid: SP keys match their certificates" in err
        assert "SP profile orgid: SP metadata is valid against the SAML metadata schema" in err

    def test_check_warns_of_a_profiles_expiring_certificate(self, tmp_path, app_settings, key_dir, capsys):
        key_pem, cert_pem = make_key_pair("short-lived orgid (TEST ONLY)", bits=2048, days=10)
        (tmp_path / "short.key").write_bytes(key_pem)
        (tmp_path / "short.crt").write_bytes(cert_pem)
        settings = {
            **app_settings,
            **orgid_settings(key_dir),
            "ekn_saml.sp_profile.orgid.signing_key": tmp_path / "short.key",
            "ekn_saml.sp_profile.orgid.signing_cert": tmp_path / "short.crt",
        }
        path = write_ini(tmp_path / "short.ini", settings)
        assert main(["check", path, "--strict"]) == 1
        assert "SP profile orgid: SP signing certificate expires in" in capsys.readouterr().err

    def test_a_profiles_key_that_does_not_match_is_a_configuration_error(self, tmp_path, app_settings, key_dir, capsys):
        settings = {**app_settings, **orgid_settings(key_dir)}
        settings["ekn_saml.sp_profile.orgid.signing_cert"] = os.path.join(key_dir, "sp-signing.crt")
        assert main(["check", write_ini(tmp_path / "bad.ini", settings)]) == 2
        assert "ekn_saml.sp_profile.orgid.signing_cert does not belong" in capsys.readouterr().err
