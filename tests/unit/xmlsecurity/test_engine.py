# SPDX-License-Identifier: Apache-2.0
"""The in-process engine (ekn_saml.xmlsecurity.engine): no process, no temporary file on the login path."""

from __future__ import annotations

import subprocess
import tempfile

from ekn_saml.xmlsecurity import NS, decrypt_element, verify_enveloped

from acs_helpers import response_spec
from xml_cases import built


def test_in_process_work_starts_no_process_and_writes_no_file(
    monkeypatch, response_factory, sp_decryption_keys, idp_keys
):
    root = built(response_factory, response_spec())

    def forbidden(*args, **kwargs):
        raise AssertionError("no subprocess or temporary file on the hot path")

    monkeypatch.setattr(subprocess, "Popen", forbidden)
    monkeypatch.setattr(tempfile, "NamedTemporaryFile", forbidden)
    monkeypatch.setattr(tempfile, "mkstemp", forbidden)
    verify_enveloped(root, [idp_keys[1]], schema=True)
    assertion = decrypt_element(root.find("saml:EncryptedAssertion", NS), sp_decryption_keys)
    verify_enveloped(assertion, [idp_keys[1]], schema=True)
