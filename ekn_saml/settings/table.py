# SPDX-License-Identifier: Apache-2.0
"""The table of settings: every ``ekn_saml.*`` key with its default and meaning, and the values some may take.

:data:`KEYS` is also the list of keys the parser accepts: a key that is not
here (or a method's or an SP profile's key not matching the patterns below)
is an unknown setting.  README's configuration table says the same (a test
checks that every key is there).
"""

from __future__ import annotations

import re
from typing import Any

from ..methods import BUILT_IN_METHODS

BINDINGS = ("redirect", "post")

# The defaults of the built-in methods (ekn_saml.methods), as the rules read them.
KNOWN_METHODS: dict[str, dict[str, Any]] = {
    name: {"profile": method.profile, "loa": method.loa} for name, method in BUILT_IN_METHODS.items()
}

METHOD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")  # also the syntax of SP profile names

# Documented defaults, also the list of keys the parser accepts.
# key -> (default or REQUIRED, description).  The README table is generated
# from this mapping by a test, so the two cannot drift apart.
REQUIRED = object()
KEYS: dict[str, tuple[Any, str]] = {
    "sp.entity_id": (REQUIRED, "The SP's entityID (an absolute URI)."),
    "sp.public_base_url": (
        REQUIRED,
        "The public base URL users reach (scheme://host[:port], no path). ACS = base + /saml/acs; "
        "Destination and Recipient are compared with it exactly, so set it even behind a proxy. "
        "https (DP §6.1); http only in development. Every redirect's Location is built from it, never from the Host header.",
    ),
    "sp.signing_key": (
        REQUIRED,
        "PEM private key that signs AuthnRequests: RSA >= 2048 (rsa-sha256), or EC P-256 (ecdsa-sha256, a far cheaper signature; `ekn-saml keygen --signing-key-type ec`).",
    ),
    "sp.signing_cert": (REQUIRED, "PEM certificate of the signing key, published in metadata."),
    "sp.encryption_keys": (
        REQUIRED,
        "PEM private keys that decrypt assertions, newest first; keep the old one here during rollover.",
    ),
    "sp.encryption_cert": (REQUIRED, "PEM certificate of the newest encryption key, published in metadata."),
    "idp.metadata_files": ("", "IdP metadata files trusted as they are (e.g. the development IdP's)."),
    "methods": (
        "mobilt_bankid bankid expisoft",
        "Login methods in chooser order; eidas (foreign e-IDs) only when listed, after joining the connector.",
    ),
    "method.<name>.idp": (REQUIRED, "entityID of the IdP for this method (one key per method)."),
    "method.<name>.loa": (
        "built-in per method",
        "LoA URIs to request (Comparison=exact); defaults: BankID loa3 + uncertified-loa3, "
        "Expisoft loa3 + loa3-nonresident + uncertified-loa3, eIDAS eidas-nf-sub + eidas-nf-high; "
        "an operator who allows it may add loa2 and loa2-nonresident for an organisational e-ID (TAR).",
    ),
    "method.<name>.profile": ("built-in per method", "person (personal identity number) or organisation."),
    "method.<name>.label": ("", "Chooser label for a method that is not built in."),
    "method.<name>.sp_profile": (
        "default",
        "The SP profile (entityID, keys, ACS) this method's AuthnRequests go out as: default (the sp.* keys) "
        "or a name from sp_profiles.",
    ),
    "method.<name>.secure_authenticator_binding": (
        "false",
        "true: the SP profile of this method declares secure-authenticator-binding (EC 6.1) and the method is "
        "offered only while its IdP declares it too; otherwise it is unavailable (EKN-OPS-006). For BankID.",
    ),
    "authn_request.binding": ("redirect", "redirect or post."),
    "user_message.sv": (
        "Logga in på EKN Online",
        "Anti-phishing text sent as umsg:UserMessage (text/plain) to IdPs that declare supports-user-message, "
        "shown before the user authenticates: never integrity-sensitive data. At most 200 characters, "
        "no control characters, no run of 10 or more digits; empty: no Swedish message.",
    ),
    "user_message.en": ("Log in to EKN Online", "The English user message (as user_message.sv); empty: none."),
    "authn_request.force_authn": ("true", "ForceAuthn sent explicitly in every AuthnRequest."),
    "security.clock_skew": ("30", "Allowed clock skew in seconds (0-60)."),
    "security.max_response_age": ("180", "Maximum age of a Response's IssueInstant in seconds."),
    "security.require_encrypted_assertion": ("true", "Reject assertions that are not EncryptedAssertion."),
    "security.accept_coordination_number": ("false", "Accept a samordningsnummer as personalIdentityNumber."),
    "eidas.mapped_number_bindings": (
        "",
        "Binding processes (populationregister, swedish-eid or URIs) under which an eIDAS login's "
        "mappedPersonalIdentityNumber is kept; otherwise it is dropped (ATTR §3.3.2).",
    ),
    "eidas.countries": (
        "",
        "Country codes (NO DE ...) the eIDAS connector offers in its country dialogue (Scoping, DP §5.3.2); "
        "empty: every country it serves.",
    ),
    "security.max_response_bytes": ("262144", "Size cap of the SAMLResponse form field, checked before decoding."),
    "security.request_ttl": ("600", "Seconds an outstanding AuthnRequest may wait for its response."),
    "security.max_xml_nodes": (
        "2000",
        "Most nodes (elements, attributes, namespace declarations, comments) a SAML message may hold; "
        "counted on the bytes before parsing (EKN-IN-012).",
    ),
    "security.max_xml_attributes": (
        "32",
        "Most attributes on one element of a SAML message (EKN-IN-013); federation metadata has the default cap.",
    ),
    "security.max_xml_depth": ("32", "Deepest nesting of elements in a SAML message (EKN-IN-014)."),
    "security.max_xml_namespaces": ("64", "Most namespace declarations in a SAML message (EKN-IN-015)."),
    "security.login_start_limit": (
        "60",
        "Login starts (/login/<method>: a signed AuthnRequest and a stored request each) one client address "
        "(REMOTE_ADDR) may make per login_start_window; more get HTTP 429 (EKN-WEB-006). 0 turns the limit off.",
    ),
    "security.login_start_window": ("60", "Seconds of the login_start_limit window (fixed, from the first start)."),
    "store.url": (
        "sqlite:///<cwd>/var/ekn_saml.sqlite",
        "State store: sqlite:///path, redis://host:port/db (also rediss:// and unix://), "
        "redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/service[/db][?options] (also rediss+sentinel://; "
        'syntax and options in README.md, "Redis Sentinel") – the Redis ones need '
        "`pip install 'ekn_saml[redis]'` –, or memory:// (unit tests only). With store.backend, the URL that class reads.",
    ),
    "store.key_prefix": ("ekn_saml:", "Prefix of every Redis key, so apps can share a server."),
    "store.backend": (
        "(empty: chosen by the store.url scheme)",
        "Dotted name (package.module:Class) of the host's own StateStore class, built with "
        "Class.from_url(store.url, key_prefix=store.key_prefix) like the built-in ones.",
    ),
    "session.idle_timeout": ("1800", "Seconds of inactivity that end a session (server-side)."),
    "session.absolute_timeout": ("28800", "Seconds after login that end a session whatever the activity."),
    "session.cookie_secure": ("true", "Send cookies with Secure (browsers accept it on http://localhost)."),
    "session.cookie_name": (
        "ekn_session",
        "Name of the session cookie; with cookie_secure = true it is sent as __Host-<name> (so is the "
        "browser-binding cookie, __Host-ekn_saml_req), which a subdomain cannot set.",
    ),
    "landing_path": ("/", "Local path to go to after login when no safe next target was given."),
    "logged_out_path": ("/login", "Local path to go to after logout."),
    "crypto_backend": (
        "xmlsec",
        "Who verifies and decrypts after the SP's own checks: xmlsec (python-xmlsec, in process) or xmlsec1 "
        "(pysaml2's xmlsec1 program, only to compare; needs the xmlsec1 system package).",
    ),
    "testing": ("false", "Set only by test suites: allows the memory:// store without a warning."),
    "development": (
        "false",
        "Development mode, implied by devidp.enabled and testing: allows an ephemeral server key. Never in production.",
    ),
    "server_keys": (
        "(empty; required outside development)",
        "File of the server's secret keys, newest first (mode 0600; `ekn-saml keygen --server-keys` makes it): "
        "they key the store's indexes and encrypt stored identities.",
    ),
    "devidp.enabled": ("false", "Serve the embedded development IdP. Never enable in production."),
    "devidp.entity_id": (
        "<public_base_url>/devidp",
        "entityID prefix of the development IdPs (one per method: /mobilt-bankid, /bankid, /expisoft).",
    ),
    "devidp.base_url": ("<public_base_url>", "Base URL the development IdP is reached at."),
    "devidp.key": ("", "PEM private key of the development IdP (TEST ONLY)."),
    "devidp.cert": ("", "PEM certificate of the development IdP."),
    "devidp.data_encryption": ("aes256-gcm", "aes128-gcm, aes256-gcm, aes128-cbc or aes256-cbc."),
    # --- SP metadata contents (DP §2, TAR §3); see docs/admin.md ---
    "sp.display_name.sv": ("", "mdui:DisplayName in Swedish: the service name approved by the federation."),
    "sp.display_name.en": ("<sp.display_name.sv>", "mdui:DisplayName in English."),
    "sp.description.sv": ("", "mdui:Description in Swedish."),
    "sp.description.en": ("<sp.description.sv>", "mdui:Description in English."),
    "sp.logo_url": ("", "https URL of the mdui:Logo (the federation requires one and checks it is reachable)."),
    "sp.logo_width": ("200", "Width of the logo in pixels."),
    "sp.logo_height": ("60", "Height of the logo in pixels."),
    "sp.organization.name": ("", "md:OrganizationName: the registered name, as in the federation agreement."),
    "sp.organization.display_name": ("<sp.organization.name>", "md:OrganizationDisplayName."),
    "sp.organization.url": ("", "md:OrganizationURL (http or https)."),
    "sp.organization.number": ("", "Organisation number, 10 digits without hyphen (check digit verified)."),
    "sp.contact.technical.email": ("", "E-mail address of the technical ContactPerson."),
    "sp.contact.support.email": ("", "E-mail address of the support ContactPerson."),
    "sp.entity_categories": (
        "loa3-pnr and/or loa3-orgid from the methods' profiles, and public-sector-sp",
        "Entity categories, short names (loa3-pnr, public-sector-sp, prepaid-auth-2021, ...) or URIs. "
        "accepts-coordination-number only with security.accept_coordination_number = true.",
    ),
    "sp.contract_categories": (
        "",
        "Service contract categories (EC 5, TAR 3.6) the SP declares besides sp.entity_categories: short names "
        "(sweden-connect, eid-choice-2017, prepaid-auth-2021, eid-authorization-system) or "
        "http://id.swedenconnect.se/contract/<org>/<name> URIs. IdPs that declare contracts answer only SPs "
        "that share one.",
    ),
    "sp.requested_attributes": (
        "transactionIdentifier if a method is a person method (BankID)",
        "Extra attributes as RequestedAttribute (friendly names or urn:oid:...); BID 6.1 recommends "
        "transactionIdentifier, which the identity keeps as transaction_id. Empty: none.",
    ),
    "sp.metadata_valid_days": ("7", "validUntil of signed SP metadata, in days from signing (1-365)."),
    "sp.next_signing_cert": ("", "PEM certificate of the next signing key, published before it is used (rollover)."),
    # --- further SP profiles (TAR §3.4: one SP for loa3-pnr logins, another for loa3-orgid); see docs/admin.md ---
    "sp_profiles": (
        "",
        "Names of further SP profiles, each its own SP entity with ACS /saml/acs/<name> and metadata "
        "/saml/metadata/<name>; the sp.* keys are the default profile. Each must be used by a method.",
    ),
    "sp_profile.<name>.entity_id": (
        REQUIRED,
        "The profile's entityID (an absolute URI, distinct from every other profile's).",
    ),
    "sp_profile.<name>.signing_key": (
        "<sp.signing_key>",
        "PEM private key that signs this profile's AuthnRequests; set with signing_cert.",
    ),
    "sp_profile.<name>.signing_cert": (
        "<sp.signing_cert>",
        "PEM certificate of the profile's signing key; set with signing_key.",
    ),
    "sp_profile.<name>.encryption_keys": (
        "<sp.encryption_keys>",
        "PEM private keys that decrypt assertions sent to this profile, newest first; set with encryption_cert.",
    ),
    "sp_profile.<name>.encryption_cert": (
        "<sp.encryption_cert>",
        "PEM certificate of the profile's newest encryption key; set with encryption_keys.",
    ),
    "sp_profile.<name>.next_signing_cert": (
        "<sp.next_signing_cert> if the signing key is inherited",
        "PEM certificate of the profile's next signing key (rollover).",
    ),
    "sp_profile.<name>.entity_categories": (
        "loa3-pnr and/or loa3-orgid from the profile's methods, and public-sector-sp",
        "The profile's entity categories (short names or URIs); loa*-pnr is refused on a profile of organisation methods only.",
    ),
    "sp_profile.<name>.display_name.sv": ("<sp.display_name.sv>", "The profile's mdui:DisplayName in Swedish."),
    "sp_profile.<name>.display_name.en": ("<display_name.sv>", "The profile's mdui:DisplayName in English."),
    "sp_profile.<name>.description.sv": ("<sp.description.sv>", "The profile's mdui:Description in Swedish."),
    "sp_profile.<name>.description.en": ("<description.sv>", "The profile's mdui:Description in English."),
    "sp_profile.<name>.requested_attributes": ("<sp.requested_attributes>", "The profile's extra RequestedAttributes."),
    "sp_profile.<name>.contract_categories": ("<sp.contract_categories>", "The profile's service contract categories."),
    # --- EKN's customer service, shown on every error page and on /help ---
    "support.email": (
        "<sp.contact.support.email>",
        "E-mail address of EKN's customer service, shown to users beside the error code and reference.",
    ),
    "support.phone": ("", "Phone number of EKN's customer service, as shown (digits, spaces, +, -, parentheses)."),
    "support.opening_hours.sv": ("", "When the phone is answered, in Swedish (e.g. vardagar 9-16)."),
    "support.opening_hours.en": ("<support.opening_hours.sv>", "When the phone is answered, in English."),
    "support.form_url.sv": ("", "https URL of EKN's contact form for Swedish-speaking users."),
    "support.form_url.en": ("<support.form_url.sv>", "https URL of the contact form for English-speaking users."),
    # --- federation metadata ---
    "federation.metadata_url": ("", "Signed federation metadata: an https URL or a file path; empty = none."),
    "federation.signing_cert": ("", "PEM certificate(s) pinned to verify the federation metadata signature."),
    "federation.backing_file": (
        "<cwd>/var/federation-metadata.xml",
        "Last-known-good copy, written atomically after each verified load; used at startup and when a refresh fails.",
    ),
    "federation.min_refresh": ("600", "Shortest refresh interval in seconds (also the retry delay after a failure)."),
    "federation.max_refresh": ("14400", "Longest refresh interval in seconds (used when there is no cacheDuration)."),
    "federation.timeout": ("30", "Seconds to wait for the metadata server."),
    "federation.max_bytes": ("67108864", "Largest metadata document accepted, in bytes."),
    "federation.max_validity_days": (
        "31",
        "Refuse a document whose validUntil is more than this many days ahead (1-366), so that a captured "
        "old document cannot be replayed for long; raise it only if the federation signs for longer.",
    ),
    # --- status endpoint ---
    "status.allowed_addresses": (
        "127.0.0.1 ::1",
        "Client addresses or networks (CIDR) that may read /saml/status and the metrics (everyone else gets a 404).",
    ),
    # --- health checks and metrics (docs/admin.md, "Health checks and metrics") ---
    "health.enabled": ("true", "Serve the unrestricted health checks for load balancers (live_path, ready_path)."),
    "health.live_path": ("/healthz", "Liveness: 200 while the process answers; touches no store or network."),
    "health.ready_path": (
        "/readyz",
        "Readiness: 200 when the store answers a ping, trusted metadata is within validUntil and the keys are "
        "loaded; else 503. Pass/fail per check only.",
    ),
    "metrics.enabled": (
        "true if prometheus_client is installed",
        "Serve Prometheus metrics at metrics.path to the status.allowed_addresses; true needs "
        "`pip install 'ekn_saml[metrics]'`.",
    ),
    "metrics.path": ("/metrics", "Path of the Prometheus metrics."),
}
DATA_ENCRYPTIONS = ("aes128-gcm", "aes192-gcm", "aes256-gcm", "aes128-cbc", "aes192-cbc", "aes256-cbc")
CRYPTO_BACKENDS = ("xmlsec", "xmlsec1")
METHOD_KEY = re.compile(r"^method\.([^.]+)\.(idp|loa|profile|label|sp_profile|secure_authenticator_binding)$")
PROFILE_KEY_STEM = "sp_profile.<name>."
# the keys a further SP profile may set: exactly the documented ones
PROFILE_KEY = re.compile(
    r"^sp_profile\.([^.]+)\.({})$".format(
        "|".join(re.escape(key[len(PROFILE_KEY_STEM) :]) for key in KEYS if key.startswith(PROFILE_KEY_STEM))
    )
)
