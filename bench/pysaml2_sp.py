# SPDX-License-Identifier: Apache-2.0
"""(a) pysaml2 7.5 as an SP, with its default crypto backend (the xmlsec1 program).

Configured so that it really validates: signed responses and assertions
wanted, unsolicited responses refused, the request passed as outstanding,
the IdP trusted through the same metadata file, and our encryption key for
decryption.  ``allow_unknown_attributes`` keeps the Swedish attributes pysaml2's
maps do not know (pysaml2-notes), so that ``ava`` has every value.
"""

from __future__ import annotations

import subprocess

from saml2 import BINDING_HTTP_POST
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.sigver import get_xmlsec_binary

from .fixtures import ACS_URL, PERSONAL_IDENTITY_NUMBER, SP_ENTITY_ID, BenchKeys


def pysaml2_client(keys: BenchKeys) -> Saml2Client:
    config = SPConfig()
    config.load(
        {
            "entityid": SP_ENTITY_ID,
            "xmlsec_binary": get_xmlsec_binary(),  # crypto_backend defaults to xmlsec1
            "key_file": keys.sp_signing_key_file,
            "cert_file": keys.sp_signing_cert_file,
            "encryption_keypairs": [
                {"key_file": keys.sp_encryption_key_file, "cert_file": keys.sp_encryption_cert_file}
            ],
            "metadata": {"local": [keys.idp_metadata_file]},
            "allow_unknown_attributes": True,
            "service": {
                "sp": {
                    "endpoints": {"assertion_consumer_service": [(ACS_URL, BINDING_HTTP_POST)]},
                    "want_response_signed": True,
                    "want_assertions_signed": True,
                    "authn_requests_signed": True,
                    "allow_unsolicited": False,
                }
            },
        }
    )
    return Saml2Client(config)


def pysaml2_acs(client: Saml2Client, saml_response: str, request_id: str) -> dict:
    """What an ACS on pysaml2 does; a failure raises (pysaml2 returns None for some, see pysaml2-notes)."""
    response = client.parse_authn_request_response(saml_response, BINDING_HTTP_POST, outstanding={request_id: ACS_URL})
    if response is None or response.assertion is None or not response.ava:
        raise ValueError("pysaml2 did not accept the response")
    if not response.ava.get("personalIdentityNumber") and PERSONAL_IDENTITY_NUMBER not in response.ava:
        raise ValueError("pysaml2 lost the personal identity number")
    return response.ava


class ProcessCounter:
    """Counts the programs pysaml2 starts (xmlsec1 runs), for the report."""

    def __init__(self) -> None:
        self.count = 0
        self._original = subprocess.Popen.__init__

    def __enter__(self):
        counter = self
        original = self._original

        def counting_init(popen, *args, **kwargs):
            counter.count += 1
            original(popen, *args, **kwargs)

        subprocess.Popen.__init__ = counting_init
        return self

    def __exit__(self, *exc):
        subprocess.Popen.__init__ = self._original
        return False
