# SPDX-License-Identifier: Apache-2.0
"""``ekn-saml``: each subcommand against a temporary ini, with real keys and really signed metadata."""

from __future__ import annotations

import datetime as dt
import os
import stat

import pytest
from lxml import etree

from ekn_saml.cli import main
from ekn_saml.keygen import make_key_pair, write_key_pair
from ekn_saml.metadata.schema import schema_errors
from ekn_saml.timeutil import utcnow
from ekn_saml.xmlsecurity import PrivateKey, PublicKey, parse_xml, verify_enveloped

from metadata_factory import aggregate, bankid_and_expisoft, federation_idp, signed, write
from testbed import BANKID_IDP, EXPISOFT_IDP


@pytest.fixture(scope="module")
def fed_signer(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("cli-fed"))
    key, cert = write_key_pair(directory, "federation-signer", "ekn_saml test federation signer (TEST ONLY)", bits=2048)
    return PrivateKey.from_file(key), cert


def write_ini(path, settings: dict) -> str:
    lines = ["[app:main]", "use = egg:ekn_saml"] + [f"{k} = {' '.join(str(v).split())}" for k, v in settings.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture
def ini(tmp_path, app_settings):
    return write_ini(tmp_path / "app.ini", app_settings)


@pytest.fixture
def fed_ini(tmp_path, app_settings, idp_keys, fed_signer):
    source = write(
        tmp_path / "source.xml",
        signed(bankid_and_expisoft(idp_keys[1], suffix=" test"), fed_signer[0]),
    )
    settings = {k: v for k, v in app_settings.items() if k != "ekn_saml.idp.metadata_files"}
    settings.update(
        {
            "ekn_saml.federation.metadata_url": source,
            "ekn_saml.federation.signing_cert": fed_signer[1],
            "ekn_saml.federation.backing_file": str(tmp_path / "var" / "federation.xml"),
        }
    )
    return write_ini(tmp_path / "fed.ini", settings)


def backing_of(ini_path):
    return os.path.join(os.path.dirname(ini_path), "var", "federation.xml")


class TestUsage:
    def test_missing_ini_is_a_usage_error(self, tmp_path, capsys):
        assert main(["check", str(tmp_path / "nope.ini")]) == 2
        assert "no such ini file" in capsys.readouterr().err

    def test_unknown_command_is_a_usage_error(self, ini):
        assert main(["frobnicate", ini]) == 2

    def test_invalid_settings_are_a_configuration_error(self, tmp_path, app_settings, capsys):
        bad = write_ini(tmp_path / "bad.ini", {**app_settings, "ekn_saml.sp.entity_idd": "x"})
        assert main(["check", bad]) == 2
        assert "unknown setting ekn_saml.sp.entity_idd" in capsys.readouterr().err


class TestKeygen:
    def test_writes_keys_with_private_mode(self, ini, tmp_path):
        assert main(["keygen", ini, "--bits", "2048"]) == 0
        for stem in ("sp-signing", "sp-encryption"):
            assert stat.S_IMODE(os.stat(tmp_path / "certs" / f"{stem}.key").st_mode) == 0o600
            with open(tmp_path / "certs" / f"{stem}.crt", "rb") as fh:
                PublicKey.from_pem(fh.read())

    def test_refuses_to_overwrite(self, ini, tmp_path, capsys):
        (tmp_path / "certs").mkdir()
        (tmp_path / "certs" / "sp-signing.key").write_text("keep me")
        assert main(["keygen", ini, "--bits", "2048"]) == 1
        assert (tmp_path / "certs" / "sp-signing.key").read_text() == "keep me"
        assert "--force" in capsys.readouterr().err

    def test_force_overwrites(self, ini, tmp_path):
        (tmp_path / "certs").mkdir()
        (tmp_path / "certs" / "sp-signing.key").write_text("old")
        assert main(["keygen", ini, "--bits", "2048", "--force"]) == 0
        assert "PRIVATE KEY" in (tmp_path / "certs" / "sp-signing.key").read_text()

    def test_next_keys_for_rollover(self, ini, tmp_path, capsys):
        assert main(["keygen", ini, "--bits", "2048", "--next", "--dir", str(tmp_path / "k")]) == 0
        assert sorted(os.listdir(tmp_path / "k")) == [
            "sp-encryption-next.crt",
            "sp-encryption-next.key",
            "sp-signing-next.crt",
            "sp-signing-next.key",
        ]
        assert "ekn_saml.sp.next_signing_cert" in capsys.readouterr().err


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


class TestFetchMetadata:
    def test_verifies_and_stores_the_backing_file(self, fed_ini, capsys):
        assert main(["fetch-metadata", fed_ini]) == 0
        assert os.path.exists(backing_of(fed_ini))
        assert "2 IdPs" in capsys.readouterr().err

    def test_unsigned_source_is_refused_and_nothing_stored(self, fed_ini, tmp_path, idp_keys, capsys):
        write(tmp_path / "source.xml", aggregate(federation_idp(BANKID_IDP, idp_keys[1])))
        assert main(["fetch-metadata", fed_ini]) == 1
        assert not os.path.exists(backing_of(fed_ini))
        assert "not signed" in capsys.readouterr().err

    def test_without_federation_settings_is_a_usage_error(self, ini):
        assert main(["fetch-metadata", ini]) == 2

    def test_older_source_does_not_replace_a_newer_backing_file(self, fed_ini, tmp_path, idp_keys, fed_signer):
        now = utcnow()
        newer = signed(bankid_and_expisoft(idp_keys[1]), fed_signer[0], created=now - dt.timedelta(hours=1))
        write(tmp_path / "source.xml", newer)
        assert main(["fetch-metadata", fed_ini]) == 0
        write(
            tmp_path / "source.xml",
            signed(bankid_and_expisoft(idp_keys[1]), fed_signer[0], created=now - dt.timedelta(hours=2)),
        )
        assert main(["fetch-metadata", fed_ini]) == 1
        with open(backing_of(fed_ini), "rb") as fh:
            assert fh.read() == newer


class TestCheck:
    def test_all_well(self, ini, capsys):
        assert main(["check", ini]) == 0
        assert "0 problem(s)" in capsys.readouterr().err

    def test_federation_not_fetched_yet_is_a_problem(self, fed_ini, capsys):
        assert main(["check", fed_ini]) == 1
        assert "fetch-metadata" in capsys.readouterr().err

    def test_fetched_federation_metadata_is_checked(self, fed_ini, capsys):
        assert main(["fetch-metadata", fed_ini]) == 0
        assert main(["check", fed_ini]) == 0
        assert "federation metadata: 2 entities, 2 IdPs, signature ok" in capsys.readouterr().err

    def test_tampered_backing_file_is_a_problem(self, fed_ini):
        assert main(["fetch-metadata", fed_ini]) == 0
        path = backing_of(fed_ini)
        with open(path, "rb") as fh:
            data = fh.read().replace(b"BankID test", b"BankID evil")
        write(path, data)
        assert main(["check", fed_ini]) == 1

    def test_certificate_expiring_soon_warns(self, tmp_path, app_settings, capsys):
        key_pem, cert_pem = make_key_pair("short-lived (TEST ONLY)", bits=2048, days=10)
        (tmp_path / "short.key").write_bytes(key_pem)
        (tmp_path / "short.crt").write_bytes(cert_pem)
        path = write_ini(
            tmp_path / "short.ini",
            {
                **app_settings,
                "ekn_saml.sp.signing_key": tmp_path / "short.key",
                "ekn_saml.sp.signing_cert": tmp_path / "short.crt",
            },
        )
        assert main(["check", path]) == 0
        assert "SP signing certificate expires in" in capsys.readouterr().err
        assert main(["check", path, "--strict"]) == 1

    def test_method_without_idp_is_a_problem(self, tmp_path, app_settings, capsys):
        path = write_ini(
            tmp_path / "m.ini", {**app_settings, "ekn_saml.method.bankid.idp": "https://idp.example.test/gone"}
        )
        assert main(["check", path]) == 1
        assert "https://idp.example.test/gone is in no trusted metadata" in capsys.readouterr().err


class TestIdps:
    def test_table_of_federation_idps(self, fed_ini, capsys):
        assert main(["fetch-metadata", fed_ini]) == 0
        capsys.readouterr()
        assert main(["idps", fed_ini]) == 0
        table = capsys.readouterr().out.splitlines()
        assert table[0].split() == ["entityID", "name", "categories", "LoAs", "methods"]
        bankid = next(line for line in table if line.startswith(BANKID_IDP))
        assert (
            "BankID test" in bankid and "loa3-pnr" in bankid and "loa3" in bankid and "mobilt_bankid,bankid" in bankid
        )

    def test_without_stored_metadata_says_what_to_run(self, fed_ini, capsys):
        assert main(["idps", fed_ini]) == 1
        assert "fetch-metadata" in capsys.readouterr().err

    def test_fetch_option_reads_the_source(self, fed_ini, capsys):
        assert main(["idps", fed_ini, "--fetch"]) == 0
        assert EXPISOFT_IDP in capsys.readouterr().out


ORGID_ENTITY = "https://sp.example.test/sp/orgid"


@pytest.fixture
def profiles_ini(tmp_path, app_settings, key_dir):
    """The test SP with a second SP profile, "orgid" (its own keys), for Expisoft."""
    return write_ini(tmp_path / "profiles.ini", {**app_settings, **_orgid_settings(key_dir)})


def _orgid_settings(key_dir, stem="sp-orgid"):
    k = lambda name: os.path.join(key_dir, name)  # noqa: E731
    return {
        "ekn_saml.sp_profiles": "orgid",
        "ekn_saml.sp_profile.orgid.entity_id": ORGID_ENTITY,
        "ekn_saml.sp_profile.orgid.signing_key": k(f"{stem}-signing.key"),
        "ekn_saml.sp_profile.orgid.signing_cert": k(f"{stem}-signing.crt"),
        "ekn_saml.sp_profile.orgid.encryption_keys": k(f"{stem}-encryption.key"),
        "ekn_saml.sp_profile.orgid.encryption_cert": k(f"{stem}-encryption.crt"),
        "ekn_saml.method.expisoft.sp_profile": "orgid",
    }


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
            **_orgid_settings(key_dir),
            "ekn_saml.sp_profile.orgid.signing_key": tmp_path / "short.key",
            "ekn_saml.sp_profile.orgid.signing_cert": tmp_path / "short.crt",
        }
        path = write_ini(tmp_path / "short.ini", settings)
        assert main(["check", path, "--strict"]) == 1
        assert "SP profile orgid: SP signing certificate expires in" in capsys.readouterr().err

    def test_a_profiles_key_that_does_not_match_is_a_configuration_error(self, tmp_path, app_settings, key_dir, capsys):
        settings = {**app_settings, **_orgid_settings(key_dir)}
        settings["ekn_saml.sp_profile.orgid.signing_cert"] = os.path.join(key_dir, "sp-signing.crt")
        assert main(["check", write_ini(tmp_path / "bad.ini", settings)]) == 2
        assert "ekn_saml.sp_profile.orgid.signing_cert does not belong" in capsys.readouterr().err


class TestServerKeys:
    def test_keygen_server_keys_writes_a_private_file(self, tmp_path, app_settings, capsys):
        from ekn_saml.server_keys import ServerKeys

        settings = {k: v for k, v in app_settings.items() if k != "ekn_saml.server_keys"}
        path = write_ini(tmp_path / "app.ini", settings)
        assert main(["keygen", "--server-keys", path]) == 0
        written = tmp_path / "certs" / "server-keys.key"
        assert stat.S_IMODE(os.stat(written).st_mode) == 0o600
        assert ServerKeys.from_file(str(written)).newest.key_id.startswith("k")
        assert f"ekn_saml.server_keys = {written}" in capsys.readouterr().err

    def test_keygen_server_keys_does_not_replace_the_keys(self, tmp_path, app_settings, capsys):
        path = tmp_path / "keys.key"
        path.write_text("ka " + "A" * 43 + "\n")
        ini = write_ini(tmp_path / "app.ini", {**app_settings, "ekn_saml.server_keys": str(path)})
        assert main(["keygen", "--server-keys", ini]) == 1
        assert "--rotate" in capsys.readouterr().err
        assert path.read_text() == "ka " + "A" * 43 + "\n"

    def test_keygen_rotate_puts_a_new_key_first(self, tmp_path, app_settings):
        from ekn_saml.server_keys import ServerKeys

        path = tmp_path / "keys.key"
        path.write_text("ka " + "A" * 43 + "\n")
        os.chmod(path, 0o600)
        ini = write_ini(tmp_path / "app.ini", {**app_settings, "ekn_saml.server_keys": str(path)})
        assert main(["keygen", "--server-keys", "--rotate", ini]) == 0
        assert [k.key_id for k in ServerKeys.from_file(str(path)).keys][1:] == ["ka"]
