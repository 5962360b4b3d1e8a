# SPDX-License-Identifier: Apache-2.0
"""The services ``config.include("ekn_saml")`` registers, as zope interfaces.

Each is registered once per app as a utility, at commit time (see
:mod:`ekn_saml.wiring`); views and host apps get one with
``request.registry.getUtility(ISamlServiceProvider)`` (or ``queryUtility``
for the optional ones: :class:`IFederationMetadata` only with federation
metadata, :class:`IDevelopmentIdp` only with the development IdP).  The
registrations carry discriminators ``("ekn_saml", "service", <interface
name>)`` and introspectables of category ``"ekn_saml services"``, so a second
registration of one of them conflicts at commit and each shows up in
``pviews`` and the debug toolbar.

The contracts say what a caller may rely on, and what a method does **not**
check.  Methods omit ``self``, as zope interfaces do.
"""

from __future__ import annotations

from zope.interface import Attribute, Interface


class ISamlServiceProvider(Interface):
    """The SAML Service Provider of the app: starts logins, checks the IdPs' answers.

    One per process, built from the settings when the configuration is
    committed; thread-safe for concurrent requests.  The only thing the
    plugin's views call for SAML work.
    """

    settings = Attribute("The parsed ``ekn_saml.*`` settings (:class:`ekn_saml.settings.SamlSettings`), frozen.")
    store = Attribute("The state store (:class:`IStateStore`) of outstanding requests, replay cache and counters.")
    server_keys = Attribute("The server keys (``ekn_saml.server_keys``) that MAC the store's indexes and seal data.")
    profiles = Attribute("SP profile name -> its loaded profile (entityID, ACS URL, keys, validation policy).")
    browser_cookie_name = Attribute("Name of the browser-binding cookie (``__Host-ekn_saml_req`` when Secure).")
    clock = Attribute("A callable giving the current UTC time; tests replace it.")

    def browser_binding(cookie):
        """The browser binding ``cookie`` carries if the SP signed it, else a new one (``cookie=None``: new).

        Does **not** set the cookie: the caller sends ``binding.cookie``.
        """

    def profile_of_entity(entity_id):
        """The SP profile whose entityID is ``entity_id``, or ``None``."""

    def idp_form_origins():
        """Origins of the login methods' IdP SSO endpoints as trusted metadata says now (CSP ``form-action``)."""

    def start_login(method_name, next_path, browser_token, *, previous_session=None, client_address=None):
        """Count the start against ``client_address``, then build, store and sign the AuthnRequest of a method.

        Raises :class:`~ekn_saml.errors.BadRequestError` for an unknown method
        or an unsafe ``next_path``, :class:`~ekn_saml.errors.LoginRateLimitedError`
        over the login-start limit.  Does **not** set the browser-binding cookie.
        """

    def finish_login(saml_response, relay_state, browser_cookie, *, sp_profile="default", end_previous_session=None):
        """Check a response posted to the ACS of ``sp_profile``; return ``(identity, next_path)``.

        Raises a :class:`~ekn_saml.errors.SamlError` for every failed check.
        Does **not** log the user in: the caller does that
        (:func:`ekn_saml.remember_identity`).
        """


class IStateStore(Interface):
    """Key/value state with a TTL on every entry, in namespaces, shared by every worker and node.

    Atomic ``add`` (add if absent), ``take`` (get and delete) and
    ``increment``; values are JSON-serialisable dicts; any failure to reach
    the backend raises :class:`~ekn_saml.errors.StoreUnavailableError`.  The
    store does **not** encrypt values: callers seal what is personal (the
    full contract: :class:`ekn_saml.storage.base.StateStore`).
    """

    def put(namespace, key, value, ttl):
        """Set ``key`` to ``value`` for ``ttl`` seconds, replacing any earlier value."""

    def add(namespace, key, value, ttl):
        """Set ``key`` only if it is absent or expired; ``True`` if this call set it (exactly one of concurrent calls)."""

    def get(namespace, key):
        """The live value, or ``None``."""

    def take(namespace, key):
        """Atomically return and delete the live value, or ``None`` (at most one of concurrent calls gets it)."""

    def delete(namespace, key):
        """Remove ``key``; an absent key is not an error."""

    def index_add(namespace, index_key, member, ttl):
        """Add ``member`` to the set ``index_key``, which then lives at least ``ttl`` more seconds."""

    def index_members(namespace, index_key):
        """The members of the set, sorted; an unknown or expired set is empty."""

    def index_discard(namespace, index_key, member):
        """Remove ``member`` from the set."""

    def increment(namespace, key, ttl):
        """Add one to the counter ``key`` and return the new value; a new counter lives ``ttl`` seconds (fixed window)."""

    def write_batch(writes):
        """Make the writes (``StoreWrite``) in order, one result each; atomic in the built-in backends (see StateStore)."""

    def ping():
        """Raise ``StoreUnavailableError`` unless the backend answers."""

    def close():
        """Release connections."""


class IStateStoreFactory(Interface):
    """How ekn_saml builds a store: a class providing this (``ekn_saml.store.backend`` names a host's own).

    The built-in backends are chosen by the URL's scheme
    (:mod:`ekn_saml.storage.registry`); each, like a host's class, provides it.
    """

    def from_url(url, *, key_prefix):
        """A store for ``ekn_saml.store.url`` and ``ekn_saml.store.key_prefix``, providing :class:`IStateStore`.

        Must **not** connect: the first operation does, so a store that is
        down at startup only makes logins answer 503 until it is back.
        Raises ValueError for a URL it cannot use.
        """


class ISamlSessionFactory(Interface):
    """ekn_saml's own server-side sessions: the login state, whatever the host's ``request.session`` is.

    Calling it with a request gives that request's session (a Pyramid
    ``ISession`` whose data lives sealed in the store; the cookie holds only
    a random id).  The plugin keeps one per request as
    ``request.ekn_saml_session``; the opt-in ``ekn_saml.host_wide.session_factory``
    makes it the app's ``request.session`` too.  It does **not** save
    itself: the plugin's session tween saves it when the response leaves.
    """

    cookie_name = Attribute("The session cookie's name (``__Host-ekn_session`` when Secure).")
    store = Attribute("The state store the sessions live in.")
    server_keys = Attribute("The server keys that seal the sessions and MAC their index keys.")
    clock = Attribute("A callable giving epoch seconds for the idle and absolute timeouts; tests replace it.")

    def __call__(request):
        """The session ``request``'s cookie names, or a new empty one (no cookie, ended, timed out, unreadable)."""

    def end_session(store_key):
        """End the one stored session at ``store_key``; does **not** check whose it is."""

    def end_sessions_of(subject):
        """End every session of ``subject`` (an ``Identity.subject``) on every node; return how many the index names."""

    def end_saml_sessions(idp, name_id, session_index=None):
        """End the sessions of a NameID at an IdP (and SessionIndex, if given); does **not** check a LogoutRequest."""


class IIdpRegistry(Interface):
    """The IdPs the SP trusts: from configured files, the development IdP and federation metadata.

    Readers never see a half-loaded set.  An IdP whose ``validUntil`` has
    passed is not returned.
    """

    def get(entity_id):
        """The trusted IdP record of ``entity_id``, or ``None``."""

    def __contains__(entity_id):
        """Whether ``entity_id`` is a trusted IdP now."""

    def all():
        """Every trusted IdP record in force now."""


class IFederationMetadata(Interface):
    """Signed federation metadata, verified and kept fresh by a background refresher (only if configured).

    ``get`` and ``all`` never wait for a download.  The refresher is armed
    when the WSGI app is created (``ApplicationCreated``) and its thread
    starts with the first read of the document in each process.
    """

    current = Attribute("The verified document in force, or ``None``.")
    signers = Attribute("The pinned certificates the document's signature is verified with.")

    def get(entity_id):
        """The IdP record of ``entity_id`` in the current document, or ``None``."""

    def all():
        """Every IdP record of the current document."""

    def refresh():
        """Fetch, verify and swap in a new document now; ``True`` on success (a failure keeps the last good one)."""

    def start():
        """Start the refresher thread of this process (idempotent)."""

    def stop(timeout=5.0):
        """Stop the refresher thread, waiting at most ``timeout`` seconds."""

    def status():
        """Age, validity and refresh state as a JSON-ready dict (the status endpoint, ``ekn-saml check``)."""


class ISpMetadataDocuments(Interface):
    """The SP metadata document of every SP profile, built and schema-checked once at startup."""

    def document(sp_profile):
        """The metadata bytes of ``sp_profile`` (``"default"`` for the ``ekn_saml.sp.*`` keys); KeyError if unknown."""


class IFormActionOrigins(Interface):
    """Where the plugin's pages may post forms: the origins of ``form-action`` in the Content-Security-Policy."""

    def origins():
        """Bare ``scheme://host[:port]`` origins besides ``'self'``, as they are now (metadata may be refreshed).

        The security-headers tween reads it for every response; an origin
        that is not bare makes the app refuse to start.
        """


class IDevelopmentIdp(Interface):
    """The embedded development IdP (only with ``ekn_saml.devidp.enabled``): never in production."""

    metadata = Attribute("The development IdPs' metadata document (bytes), as a federation would publish it.")

    def engine(slug):
        """The pysaml2 IdP engine of the development IdP ``slug`` (``mobilt-bankid``, ``bankid``, ``expisoft``)."""


class IMetrics(Interface):
    """The Prometheus metrics of the app (only with ``ekn_saml.metrics.enabled``): :class:`ekn_saml.metrics.Recorder`.

    Counters and histograms on a registry of the app's own, never
    prometheus_client's global one; label values are bounded (configured
    methods and their IdPs, error codes) and never personal data.
    """

    registry = Attribute("The app's own prometheus_client CollectorRegistry (a host may add it to its own).")

    def login_started(method):
        """A login start sent the user to the IdP of ``method`` (a configured method's name, else ``other``)."""

    def login_finished(method, idp, *, success):
        """The ACS checked (``success``) or refused a response; unknown method or IdP values count as ``other``."""

    def failure(code):
        """A failure shown to a user, by its error code (``EKN-...``); EKN-WEB-006 also counts as rate-limited."""

    def request_time(endpoint, seconds):
        """How long a login start (``login_start``) or an ACS post (``acs``) took to answer."""

    def store_call(operation, call):
        """``call`` timed as store ``operation``; a StoreUnavailableError it raises is counted, then raised."""

    def exposition(gauges=()):
        """``(body, content type)`` of a scrape: the counters, the histograms and the given gauge samples.

        Does **not** check who asks: the view does (``status.allowed_addresses``).
        """
