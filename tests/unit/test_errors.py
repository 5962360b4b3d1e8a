# SPDX-License-Identifier: Apache-2.0
"""ekn_saml.errors: what an error's detail may put in a log line."""

from __future__ import annotations

import pytest

from ekn_saml.errors import ConfigurationError, ErrorCode, ResponseValidationError, printable


@pytest.mark.parametrize("control", ["\n", "\r", "\x1b", "\x00", "\x85", "\u2028", "\u2029", "\x7f"])
def test_a_control_character_is_escaped(control):
    assert control not in printable(f"before{control}after")


def test_an_escaped_newline_stays_readable():
    assert printable("urn:a\nforged") == "urn:a\\nforged"


def test_printable_text_is_unchanged():
    assert (
        printable("Destination 'https://sp.example/saml/acs' – åäö")
        == "Destination 'https://sp.example/saml/acs' – åäö"
    )


def test_a_long_value_is_cut():
    assert len(printable("x" * 10_000, 100)) == 100


def test_an_error_detail_quoting_the_message_is_escaped():
    """A namespace URI with &#10; in it reached an operator log line and forged the next one."""
    error = ResponseValidationError(ErrorCode.NOT_A_RESPONSE, "root element is {urn:a\n2026-12-03 INFO forged}Response")
    assert "\n" not in error.detail and "\n" not in str(error)


def test_a_configuration_error_keeps_one_problem_a_line():
    error = ConfigurationError(["first", "second with\na line break"])
    assert error.detail.splitlines() == [
        "ekn_saml configuration has 2 problem(s):",
        "  - first",
        "  - second with\\na line break",
    ]


# --- permanent refusals and transient failures ---

from ekn_saml.errors import ErrorFamily, MethodUnavailableError, Refusal, family_of, is_permanent, refusal_of  # noqa: E402

REFUSALS = {
    ErrorCode.COORDINATION_NUMBER_NOT_ACCEPTED: Refusal.COORDINATION_NUMBER,
    ErrorCode.SCOPE_NOT_AUTHORISED: Refusal.ORGANISATION,
    ErrorCode.IDP_NO_AUTHN_CONTEXT: Refusal.LOA,
    ErrorCode.LOA_NOT_REQUESTED: Refusal.LOA,
    ErrorCode.METHOD_UNAVAILABLE: Refusal.METHOD_UNAVAILABLE,
}


@pytest.mark.parametrize("code, refusal", REFUSALS.items(), ids=[c.value for c in REFUSALS])
def test_a_permanent_refusal_says_why(code, refusal):
    assert (is_permanent(code), refusal_of(code), family_of(code)) == (True, refusal, ErrorFamily.REFUSED)


@pytest.mark.parametrize(
    "code",
    [ErrorCode.SIGNATURE_INVALID, ErrorCode.IDP_AUTHN_FAILED, ErrorCode.REQUEST_UNKNOWN, ErrorCode.IDP_CANCELLED],
)
def test_a_transient_failure_is_not_permanent(code):
    assert (is_permanent(code), refusal_of(code)) == (False, None)


def test_every_refusal_has_a_code():
    assert set(Refusal) == set(REFUSALS.values())


def test_a_method_whose_idp_is_gone_is_a_permanent_error():
    error = MethodUnavailableError("bankid", "IdP gone")
    assert (error.permanent, error.method, error.http_status) == (True, "bankid", 503)
