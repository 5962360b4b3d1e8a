# SPDX-License-Identifier: Apache-2.0
"""The one error hierarchy of ekn_saml.

Every failure a user or an operator can meet is a :class:`SamlError` with a
stable :class:`ErrorCode`.  Codes are part of the public contract: logs,
audit lines, error pages and tests refer to them, so a code is never renamed
or reused for another meaning.  The English ``detail`` is for operators only
and is never shown to end users (pages are chosen by :attr:`SamlError.family`).
"""

from __future__ import annotations

import enum
import re
import secrets


class ErrorFamily(enum.StrEnum):
    """Which page a user sees; one template per family."""

    CANCELLED = "cancelled"
    FRAUD = "fraud"
    IDP_ERROR = "idp_error"
    INVALID_RESPONSE = "invalid_response"
    REQUEST_STATE = "request_state"
    BAD_REQUEST = "bad_request"
    RATE_LIMITED = "rate_limited"  # too many login starts from one client address
    UNAVAILABLE = "unavailable"
    CONFIGURATION = "configuration"
    # a step-up login answered by another person or organisation than the logged-in one
    STEP_UP_MISMATCH = "step_up_mismatch"
    # a permanent refusal (see Refusal): the page says why, and offers no "try again"
    REFUSED = "refused"
    # no page at this address (EKN-WEB-404, the opt-in 404 view): not an ErrorCode
    NOT_FOUND = "not_found"


class Refusal(enum.StrEnum):
    """Why a login was refused for good: trying again with the same e-ID cannot succeed.

    Each has a page of its own saying why and what to do instead
    (templates/error.jinja2, ``data-refusal``).
    """

    COORDINATION_NUMBER = "coordination_number"  # a samordningsnummer, and this service does not accept one
    ORGANISATION = "organisation"  # the organisation is not one this e-ID may vouch for
    LOA = "loa"  # the e-ID cannot give the level of assurance the service needs
    # the method's IdP is gone from the metadata, or no longer declares what the method needs (EC 1.3, 6.1)
    METHOD_UNAVAILABLE = "method_unavailable"


class ErrorCode(enum.StrEnum):
    # --- input handling (checklist 12) ---
    RESPONSE_MISSING = "EKN-IN-001"
    RESPONSE_TOO_LARGE = "EKN-IN-002"
    RESPONSE_NOT_BASE64 = "EKN-IN-003"
    XML_MALFORMED = "EKN-IN-004"
    XML_DTD_FORBIDDEN = "EKN-IN-005"
    XML_DUPLICATE_ID = "EKN-IN-006"
    NOT_A_RESPONSE = "EKN-IN-007"
    XML_NAMESPACE_INVALID = "EKN-IN-008"
    SCHEMA_INVALID = "EKN-IN-009"
    # HTTP-Redirect binding (ekn_saml.redirect_binding): raw DEFLATE that does not
    # inflate cleanly, and a message that inflates past the cap (a deflate bomb)
    DEFLATE_INVALID = "EKN-IN-010"
    INFLATED_TOO_LARGE = "EKN-IN-011"
    # Caps on the shape of a document (ekn_saml.security.max_xml_*), checked before
    # any canonicalisation or signature work, so a forged message costs little
    XML_TOO_MANY_NODES = "EKN-IN-012"
    XML_TOO_MANY_ATTRIBUTES = "EKN-IN-013"
    XML_TOO_DEEP = "EKN-IN-014"
    XML_TOO_MANY_NAMESPACES = "EKN-IN-015"
    # --- signature (checklist 1, 2, 11) ---
    RESPONSE_NOT_SIGNED = "EKN-SIG-001"
    SIGNATURE_INVALID = "EKN-SIG-002"
    SIGNATURE_PROFILE_VIOLATION = "EKN-SIG-003"
    SIGNATURE_ALGORITHM_FORBIDDEN = "EKN-SIG-004"
    SIGNATURE_KEYINFO_FORBIDDEN = "EKN-SIG-005"
    NO_TRUSTED_KEY = "EKN-SIG-006"
    # --- encryption (checklist 3, 11) ---
    ASSERTION_NOT_ENCRYPTED = "EKN-ENC-001"
    DECRYPTION_FAILED = "EKN-ENC-002"
    ENCRYPTION_ALGORITHM_FORBIDDEN = "EKN-ENC-003"
    ENCRYPTED_ATTRIBUTE_FORBIDDEN = "EKN-ENC-004"
    ENCRYPTED_ID_FORBIDDEN = "EKN-ENC-005"
    # CipherData must carry its CipherValue: a CipherReference would make the
    # decrypting library read a file or URL the message names
    ENCRYPTION_PROFILE_VIOLATION = "EKN-ENC-006"
    # --- request binding (checklist 4, 13) ---
    UNSOLICITED_RESPONSE = "EKN-REQ-001"
    REQUEST_UNKNOWN = "EKN-REQ-002"
    REQUEST_BROWSER_MISMATCH = "EKN-REQ-003"
    ISSUER_UNKNOWN = "EKN-REQ-004"
    ISSUER_MISMATCH = "EKN-REQ-005"
    RELAY_STATE_MISMATCH = "EKN-REQ-006"
    # a response posted to the ACS of one SP profile answers a request another profile sent
    SP_PROFILE_MISMATCH = "EKN-REQ-007"
    # a step-up login (ekn_saml.step_up) came back with another subject than the session's: the
    # session is ended, as someone else may be at the keyboard
    STEP_UP_SUBJECT_MISMATCH = "EKN-REQ-008"
    # --- addressing (checklist 5, 6) ---
    DESTINATION_MISSING = "EKN-ADR-001"
    DESTINATION_MISMATCH = "EKN-ADR-002"
    RECIPIENT_MISMATCH = "EKN-ADR-003"
    AUDIENCE_MISMATCH = "EKN-ADR-004"
    SUBJECT_CONFIRMATION_INVALID = "EKN-ADR-005"
    # --- time (checklist 6, 7) ---
    NOT_YET_VALID = "EKN-TIME-001"
    EXPIRED = "EKN-TIME-002"
    RESPONSE_TOO_OLD = "EKN-TIME-003"
    ISSUE_INSTANT_IN_FUTURE = "EKN-TIME-004"
    AUTHN_INSTANT_TOO_OLD = "EKN-TIME-005"
    # --- statements and LoA (checklist 7) ---
    ASSERTION_COUNT = "EKN-AST-001"
    AUTHN_STATEMENT_COUNT = "EKN-AST-002"
    ATTRIBUTE_STATEMENT_COUNT = "EKN-AST-003"
    LOA_NOT_REQUESTED = "EKN-AST-004"
    # --- replay (checklist 8) ---
    ASSERTION_REPLAYED = "EKN-RPL-001"
    # --- attributes and identity mapping (checklist 9) ---
    ATTRIBUTE_MISSING = "EKN-ATTR-001"
    ATTRIBUTE_MULTI_VALUED = "EKN-ATTR-002"
    ATTRIBUTE_VALUE_MALFORMED = "EKN-ATTR-003"
    PERSONAL_NUMBER_INVALID = "EKN-ATTR-004"
    COORDINATION_NUMBER_NOT_ACCEPTED = "EKN-ATTR-005"
    ORG_NUMBER_INVALID = "EKN-ATTR-006"
    SCOPE_NOT_AUTHORISED = "EKN-ATTR-007"
    # organizationIdentifier names no organisation of the orgAffiliation values (DP §6.2.1)
    ORG_IDENTIFIER_MISMATCH = "EKN-ATTR-008"
    # an eIDAS connector assertion without prid, the only key of a foreign identity (ATTR §2.5, §3.3.1)
    PRID_MISSING = "EKN-ATTR-009"
    # --- IdP status (checklist 10) ---
    IDP_CANCELLED = "EKN-IDP-001"
    IDP_FRAUD = "EKN-IDP-002"
    IDP_POSSIBLE_FRAUD = "EKN-IDP-003"
    IDP_AUTHN_FAILED = "EKN-IDP-004"
    IDP_NO_AUTHN_CONTEXT = "EKN-IDP-005"
    IDP_REQUEST_DENIED = "EKN-IDP-006"
    IDP_OTHER_ERROR = "EKN-IDP-007"
    # --- user-side requests ---
    UNKNOWN_METHOD = "EKN-WEB-001"
    UNSAFE_REDIRECT = "EKN-WEB-002"
    CSRF_FAILED = "EKN-WEB-003"
    REQUEST_ENCODING_INVALID = "EKN-WEB-004"  # a URL or query string that is not UTF-8
    UNKNOWN_LANGUAGE = "EKN-WEB-005"  # the language switch (/lang/{code}) for a language we do not offer
    # more login starts from one client address than security.login_start_limit per window (HTTP 429)
    LOGIN_RATE_LIMITED = "EKN-WEB-006"
    # the organisation picker (/choose-organisation) was sent one the login's orgAffiliation values do not name
    ORGANISATION_NOT_ASSERTED = "EKN-WEB-007"
    # --- operations ---
    STORE_UNAVAILABLE = "EKN-OPS-001"
    METADATA_INVALID = "EKN-OPS-002"
    CONFIGURATION_INVALID = "EKN-OPS-003"
    # Logged, never a page.  A stored session that no server key opens (a key
    # removed too early, an altered or moved record): the user is logged out.
    SESSION_UNREADABLE = "EKN-OPS-004"
    # Logged, never a page.  A store file other users could read was found and
    # tightened to the owner alone (its contents may have been exposed).
    STORE_FILE_EXPOSED = "EKN-OPS-005"
    # a login method that cannot be used now: its IdP is gone from the trusted metadata, or its
    # metadata no longer matches the SP's entity categories (EC 1.3) or lacks secure-authenticator-
    # binding that the method requires (EC 6.1).  Nothing is sent; the detail and audit say which.
    METHOD_UNAVAILABLE = "EKN-OPS-006"


# What each code means for the user: the page family and the HTTP status.
# Codes with a page of their own; the others take their prefix's page.
_OWN_FAMILY = {
    ErrorCode.IDP_CANCELLED: ErrorFamily.CANCELLED,
    ErrorCode.IDP_FRAUD: ErrorFamily.FRAUD,
    ErrorCode.IDP_POSSIBLE_FRAUD: ErrorFamily.FRAUD,
    ErrorCode.LOGIN_RATE_LIMITED: ErrorFamily.RATE_LIMITED,
    ErrorCode.STEP_UP_SUBJECT_MISMATCH: ErrorFamily.STEP_UP_MISMATCH,
}


# The codes that refuse a login for good, and why.  Every other code is
# transient: the same e-ID may succeed when the user tries again.
_REFUSALS = {
    ErrorCode.COORDINATION_NUMBER_NOT_ACCEPTED: Refusal.COORDINATION_NUMBER,
    ErrorCode.SCOPE_NOT_AUTHORISED: Refusal.ORGANISATION,
    # the IdP could not give the LoA we asked for (NoAuthnContext), or answered with another one
    ErrorCode.IDP_NO_AUTHN_CONTEXT: Refusal.LOA,
    ErrorCode.LOA_NOT_REQUESTED: Refusal.LOA,
    ErrorCode.METHOD_UNAVAILABLE: Refusal.METHOD_UNAVAILABLE,
}


def refusal_of(code: ErrorCode) -> Refusal | None:
    """Why ``code`` refuses the login for good, or ``None`` for a transient failure."""
    return _REFUSALS.get(code)


def is_permanent(code: ErrorCode) -> bool:
    """Whether trying again cannot help: the page then explains, and offers no "try again"."""
    return code in _REFUSALS


def family_of(code: ErrorCode) -> ErrorFamily:
    if code in _REFUSALS:
        return ErrorFamily.REFUSED
    if code in _OWN_FAMILY:
        return _OWN_FAMILY[code]
    prefix = code.value.split("-")[1]
    return {
        "IDP": ErrorFamily.IDP_ERROR,
        "REQ": ErrorFamily.REQUEST_STATE,
        "WEB": ErrorFamily.BAD_REQUEST,
        "OPS": ErrorFamily.UNAVAILABLE,
    }.get(prefix, ErrorFamily.INVALID_RESPONSE)


# C0 and C1 controls, DEL, and the Unicode line and paragraph separators: what
# can end a log line or hide text in a terminal
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: object, limit: int = 500) -> str:
    """``text`` for one log line: control characters escaped (``\\n``, ``\\x1b``), at most ``limit`` characters.

    For anything that may come from a request, a message or a library's
    error text, so that no value can end a line and forge the next one.
    Does **not** mask personal identity numbers: callers must not pass them.
    """
    value = str(text)
    if len(value) > limit:
        value = value[: limit - 3] + "..."
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), value)


def new_reference() -> str:
    """A short id the user can quote to support; it is logged with the error."""
    return secrets.token_hex(5).upper()


class SamlError(Exception):
    """Base of every ekn_saml error.

    ``detail`` is an operator-facing explanation; it must never contain a
    personal identity number (callers mask before formatting).
    """

    http_status = 400
    # What the service knew when this was raised, for the audit line
    # (ekn_saml.audit); set by ServiceProvider.finish_login.  ``idp`` is the
    # trusted IdP the message names (its signature may not have verified).
    idp: str | None = None
    method: str | None = None
    # seconds after which trying again may succeed: sent as Retry-After when set
    retry_after: int | None = None

    def __init__(self, code: ErrorCode, detail: str = "", *, escape: bool = True) -> None:
        # the detail quotes values of the message: escaped here, for every log line it reaches
        if escape:
            detail = printable(detail, 2000)
        super().__init__(f"{code.name} ({code.value}): {detail}" if detail else f"{code.name} ({code.value})")
        self.code = code
        self.detail = detail
        self.reference = new_reference()

    @property
    def family(self) -> ErrorFamily:
        return family_of(self.code)

    @property
    def permanent(self) -> bool:
        """Whether trying again cannot help (:func:`is_permanent`)."""
        return is_permanent(self.code)


class ConfigurationError(SamlError):
    """Settings or keys are wrong; raised at startup with every problem listed."""

    http_status = 500

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        # one problem a line, each escaped: a problem may quote a metadata file or a setting
        super().__init__(
            ErrorCode.CONFIGURATION_INVALID,
            f"ekn_saml configuration has {len(problems)} problem(s):\n  - "
            + "\n  - ".join(printable(p, 2000) for p in problems),
            escape=False,
        )


class ResponseValidationError(SamlError):
    """The SAML Response broke a rule; the user may simply try again."""

    http_status = 400


class RequestStateError(SamlError):
    """InResponseTo, browser binding, issuer binding or RelayState failed."""

    http_status = 400


class IdPStatusError(SamlError):
    """The IdP answered with a non-success status (cancel, fraud, failure)."""

    http_status = 400

    def __init__(self, code: ErrorCode, status_codes: tuple[str, ...], message: str = "") -> None:
        super().__init__(code, "IdP status {} {}".format(" / ".join(status_codes), message))
        self.status_codes = status_codes


class BadRequestError(SamlError):
    """A user-side request is malformed (unknown method, unsafe target)."""

    http_status = 400


class LoginRateLimitedError(SamlError):
    """Too many login starts from one client address in the current window (HTTP 429)."""

    http_status = 429

    def __init__(self, retry_after: int, detail: str = "") -> None:
        super().__init__(ErrorCode.LOGIN_RATE_LIMITED, detail)
        self.retry_after = retry_after


class MetadataError(SamlError):
    """Metadata could not be loaded or trusted."""

    http_status = 503

    def __init__(self, detail: str) -> None:
        super().__init__(ErrorCode.METADATA_INVALID, detail)


class StepUpMismatchError(SamlError):
    """A step-up login authenticated another subject than the session's; the session has been ended."""

    http_status = 403

    def __init__(self, detail: str = "", *, session_to_end: str | None = None) -> None:
        super().__init__(ErrorCode.STEP_UP_SUBJECT_MISMATCH, detail)
        # the store key of the session the step-up was started from (ended by ServiceProvider.finish_login)
        self.session_to_end = session_to_end


class MethodUnavailableError(SamlError):
    """A login method that cannot be used now; no request was sent.

    Its IdP is not in the trusted metadata, or its metadata lacks what the
    method requires (EC 1.3 matching, secure-authenticator-binding).  The
    detail says which, for the log; the user gets the refusal page.
    """

    http_status = 503

    def __init__(self, method: str, detail: str) -> None:
        super().__init__(ErrorCode.METHOD_UNAVAILABLE, detail)
        self.method = method


class StoreUrlError(ValueError):
    """A store URL the built-in backend cannot use; ``code`` says which rule it breaks (stable, for tests and docs).

    A ValueError, because that is what ``StateStore.from_url`` raises for a
    URL it cannot use; the settings report it at startup with its code.
    Its message never contains a password.
    """

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class StoreUnavailableError(SamlError):
    """The state store did not answer; nothing was half-written."""

    http_status = 503

    def __init__(self, detail: str) -> None:
        super().__init__(ErrorCode.STORE_UNAVAILABLE, detail)
