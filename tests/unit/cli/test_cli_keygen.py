# SPDX-License-Identifier: Apache-2.0
"""ekn-saml keygen (ekn_saml.cli.keygen): SP key pairs, the next ones, the server key file."""

from __future__ import annotations

import os
import stat

from ekn_saml.cli import main
from ekn_saml.xmlsecurity import PublicKey

from cli_cases import write_ini


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

    def test_an_ec_signing_key_is_p256_and_the_encryption_key_stays_rsa(self, ini, tmp_path):
        from cryptography.hazmat.primitives.asymmetric import ec, rsa

        assert main(["keygen", ini, "--bits", "2048", "--signing-key-type", "ec"]) == 0
        keys = {}
        for use in ("signing", "encryption"):
            with open(tmp_path / "certs" / f"sp-{use}.crt", "rb") as fh:
                keys[use] = PublicKey.from_pem(fh.read()).cert.public_key()
        assert isinstance(keys["signing"], ec.EllipticCurvePublicKey) and keys["signing"].curve.name == "secp256r1"
        assert isinstance(keys["encryption"], rsa.RSAPublicKey)


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
