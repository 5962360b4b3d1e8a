# SPDX-License-Identifier: Apache-2.0
from ekn_saml.settings import parse_settings
from ekn_saml.testing import development_settings, write_ini


def test_development_settings_parse_without_problems():
    raw = development_settings(sp_base="http://localhost:6543", keys_dir="/k", store_url="sqlite:////tmp/s.sqlite")
    settings = parse_settings(raw, file_exists=lambda path: True)
    assert settings.devidp.enabled and [m.name for m in settings.methods] == [
        "mobilt_bankid",
        "bankid",
        "expisoft",
        "eidas",  # on in development, off unless configured elsewhere
    ]


def test_extra_keys_use_double_underscores_for_dots():
    raw = development_settings(sp_base="http://x.test", keys_dir="/k", store_url="memory://", store__key_prefix="p:")
    assert raw["ekn_saml.store.key_prefix"] == "p:"


def test_ini_without_a_port_leaves_it_to_pserve(tmp_path):
    path = write_ini(str(tmp_path / "a.ini"), {"ekn_saml.methods": "bankid"}, port=None)
    assert "listen = 127.0.0.1:%(http_port)s" in (tmp_path / "a.ini").read_text()
    assert path.endswith("a.ini")


def test_development_settings_have_two_sp_profiles_with_their_own_keys():
    raw = development_settings(sp_base="http://localhost:6543", keys_dir="/k", store_url="memory://")
    settings = parse_settings(raw, file_exists=lambda path: True)
    default, orgid = settings.sp_profiles
    assert [m.name for m in settings.methods_of("orgid")] == ["expisoft"]
    assert (orgid.entity_id, orgid.signing_key) == ("http://localhost:6543/sp/orgid", "/k/sp-orgid-signing.key")
    assert default.signing_key != orgid.signing_key and default.encryption_keys != orgid.encryption_keys


def test_test_keys_include_every_profiles_keys(tmp_path):
    from ekn_saml.testing import make_test_keys

    make_test_keys(str(tmp_path), "unit test")
    raw = development_settings(sp_base="http://x.test", keys_dir=str(tmp_path), store_url="memory://")
    parse_settings(raw)  # every key file it names exists


def test_ini_can_serve_another_app_than_the_demo(tmp_path):
    write_ini(str(tmp_path / "a.ini"), {}, port=None, app="call:host_app:main")
    assert "use = call:host_app:main" in (tmp_path / "a.ini").read_text()
