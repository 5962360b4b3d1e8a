# SPDX-License-Identifier: Apache-2.0
"""ekn-saml fetch-metadata (ekn_saml.cli.fetch_metadata): verified before stored, never back in time."""

from __future__ import annotations

import datetime as dt
import os

from ekn_saml.cli import main
from ekn_saml.timeutil import utcnow

from cli_cases import backing_of
from metadata_factory import aggregate, bankid_and_expisoft, federation_idp, signed, write
from testbed import BANKID_IDP


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
