# SPDX-License-Identifier: Apache-2.0
"""ekn-saml check (ekn_saml.cli.check): one line per check, exit 1 on a problem."""

from __future__ import annotations

from ekn_saml.cli import main
from ekn_saml.keygen import make_key_pair

from cli_cases import backing_of, write_ini
from metadata_factory import write


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

    def test_a_method_the_app_would_not_offer_is_a_problem(self, tmp_path, app_settings, capsys):
        # the test IdP declares no secure-authenticator-binding: the app refuses the method (EKN-OPS-006)
        path = write_ini(
            tmp_path / "s.ini", {**app_settings, "ekn_saml.method.bankid.secure_authenticator_binding": "true"}
        )
        assert main(["check", path]) == 1
        err = capsys.readouterr().err
        assert "method bankid: unavailable:" in err and "secure-authenticator-binding" in err

    def test_an_idp_without_entity_categories_is_a_warning(self, ini, capsys):
        assert main(["check", ini]) == 0
        assert "declares no entity categories, so it is not matched" in capsys.readouterr().err
