# SPDX-License-Identifier: Apache-2.0
"""The outstanding-request record: what it stores, and that it reads back (records of the previous version too)."""

from __future__ import annotations

from ekn_saml.facts import OutstandingRequest

LOAS = ("http://id.elegnamnden.se/loa/1.0/loa3", "http://id.swedenconnect.se/loa/1.0/uncertified-loa3")


def _outstanding(**overrides):
    values = dict(
        request_id="_r1",
        method="expisoft",
        idp_entity_id="https://idp.example.test/expisoft",
        loa=LOAS,
        issued_at=1.0,
        browser="b",
        relay_state="rs",
        next_path="/arenden?flik=2",
        force_authn=False,
        sp_profile="orgid",
        previous_session="ab" * 32,
    )
    values.update(overrides)
    return OutstandingRequest(**values)


def test_a_record_reads_back_as_the_same_request():
    request = _outstanding()
    assert OutstandingRequest.from_dict("_r1", request.to_dict()) == request


def test_a_record_holds_neither_the_request_id_nor_the_acs_url():
    # the request ID is the store key; the ACS URL is the SP profile's
    assert not {"request_id", "acs_url"} & set(_outstanding().to_dict())


def test_a_plain_login_starts_record_leaves_every_default_out():
    plain = _outstanding(next_path=None, force_authn=True, sp_profile="default", previous_session=None)
    assert set(plain.to_dict()) == {"method", "idp_entity_id", "loa", "issued_at", "browser", "relay_state"}


def test_a_record_of_the_previous_version_is_read():
    """Records written before a rolling upgrade still finish (they held request_id, acs_url, force_authn, next_path)."""
    previous = {
        "request_id": "_r1",
        "method": "bankid",
        "idp_entity_id": "https://idp.example.test/bankid",
        "acs_url": "https://sp.example.test/saml/acs",
        "loa": list(LOAS),
        "force_authn": True,
        "issued_at": 1.0,
        "browser": "b",
        "relay_state": "rs",
        "next_path": "/mina-sidor",
    }
    request = OutstandingRequest.from_dict("_r1", previous)
    assert (request.request_id, request.next_path, request.force_authn, request.sp_profile) == (
        "_r1",
        "/mina-sidor",
        True,
        "default",
    )
