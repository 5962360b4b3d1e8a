# SPDX-License-Identifier: Apache-2.0
"""Helpers for ACS tests: start a real login on the SP, then answer it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ekn_saml.errors import SamlError
from ekn_saml.identity import (
    DISPLAY_NAME,
    GIVEN_NAME,
    ORG_AFFILIATION,
    ORGANIZATION_IDENTIFIER,
    ORGANIZATION_NAME,
    PERSONAL_IDENTITY_NUMBER,
    SN,
    TRANSACTION_IDENTIFIER,
)
from ekn_saml.response import REQUESTS

from saml_factory import ResponseSpec
from testbed import ACS_URL, BANKID_IDP, EXPISOFT_IDP, EXPISOFT_SCOPE, LOA3_NONRESIDENT, SP_ENTITY_ID, UNCERTIFIED_LOA3

PNR = "198001012387"  # made up, valid check digit
PERSON_ATTRIBUTES = {
    PERSONAL_IDENTITY_NUMBER: [PNR],
    GIVEN_NAME: ["Anna"],
    SN: ["Andersson"],
    DISPLAY_NAME: ["Anna Andersson"],
    TRANSACTION_IDENTIFIER: ["tx-123"],
}
ORG_ATTRIBUTES = {
    ORG_AFFILIATION: [f"stbj1006@{EXPISOFT_SCOPE}"],
    ORGANIZATION_NAME: ["Exportbolaget Test AB"],
    ORGANIZATION_IDENTIFIER: [EXPISOFT_SCOPE],
    DISPLAY_NAME: ["Eva Exportsson"],
}


@dataclass
class Login:
    request_id: str
    relay_state: str
    browser_token: str  # the browser-binding cookie's value, as the browser sends it (signed)
    method: str


def begin(sp, method: str = "bankid", next_path: str | None = None) -> Login:
    binding = sp.browser_binding(None)  # a new one, as the login start view makes it
    start = sp.start_login(method, next_path, binding.token)
    stored = sp.store.get(REQUESTS, start.request_id)
    return Login(start.request_id, stored["relay_state"], binding.cookie, method)


def response_spec(method: str = "bankid", in_response_to: str | None = "_req1", **overrides) -> ResponseSpec:
    """A valid success Response from the test IdP of ``method``: BankID (a person) or Expisoft (an organisation)."""
    organisation = method == "expisoft"
    values = dict(
        issuer=EXPISOFT_IDP if organisation else BANKID_IDP,
        in_response_to=in_response_to,
        destination=ACS_URL,
        recipient=ACS_URL,
        audience=SP_ENTITY_ID,
        loa=LOA3_NONRESIDENT if organisation else UNCERTIFIED_LOA3,
        attributes={k: list(v) for k, v in (ORG_ATTRIBUTES if organisation else PERSON_ATTRIBUTES).items()},
    )
    values.update(overrides)
    return ResponseSpec(**values)


def spec_for(login: Login, **overrides) -> ResponseSpec:
    """:func:`response_spec` answering ``login``'s request."""
    return response_spec(login.method, **{"in_response_to": login.request_id, **overrides})


def finish(
    sp,
    factory,
    login: Login,
    spec: ResponseSpec | None = None,
    *,
    encoded: str | None = None,
    relay_state=None,
    token=None,
):
    body = encoded if encoded is not None else factory.encoded(spec or spec_for(login))
    return sp.finish_login(
        body,
        login.relay_state if relay_state is None else relay_state,
        login.browser_token if token is None else token,
    )


def assert_rejected(code, sp, factory, login, spec=None, **kwargs):
    with pytest.raises(SamlError) as caught:
        finish(sp, factory, login, spec, **kwargs)
    assert caught.value.code == code, f"expected {code.name}, got {caught.value.code.name}: {caught.value.detail}"
    return caught.value
