# SPDX-License-Identifier: Apache-2.0
"""ekn-saml idps (ekn_saml.cli.idps): the trusted IdPs and the methods that use them."""

from __future__ import annotations

from ekn_saml.cli import main

from testbed import BANKID_IDP, EXPISOFT_IDP


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
