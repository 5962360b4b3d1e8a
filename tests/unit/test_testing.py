# SPDX-License-Identifier: Apache-2.0
from ekn_saml.settings import parse_settings
from ekn_saml.testing import development_settings, write_ini


def test_development_settings_parse_without_problems():
    raw = development_settings(sp_base="http://localhost:6543", keys_dir="/k", store_url="sqlite:////tmp/s.sqlite")
    settings = parse_settings(raw, file_exists=lambda path: True)
    assert settings.devidp.enabled and [m.name for m in settings.methods] == ["mobilt_bankid", "bankid", "expisoft"]


def test_extra_keys_use_double_underscores_for_dots():
    raw = development_settings(sp_base="http://x.test", keys_dir="/k", store_url="memory://", store__key_prefix="p:")
    assert raw["ekn_saml.store.key_prefix"] == "p:"


def test_ini_without_a_port_leaves_it_to_pserve(tmp_path):
    path = write_ini(str(tmp_path / "a.ini"), {"ekn_saml.methods": "bankid"}, port=None)
    assert "listen = 127.0.0.1:%(http_port)s" in (tmp_path / "a.ini").read_text()
    assert path.endswith("a.ini")
