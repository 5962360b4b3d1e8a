# SPDX-License-Identifier: Apache-2.0
"""The command line itself (ekn_saml.cli): usage, exit codes."""

from __future__ import annotations

from ekn_saml.cli import main

from cli_cases import write_ini


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
