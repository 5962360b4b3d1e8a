# SPDX-License-Identifier: Apache-2.0
"""Languages, translations and the Jinja2 renderer of ekn_saml's pages.

EKN Online speaks Swedish first and English second.  The plugin's pages are
translated into whatever ``request.locale_name`` is, that is, whatever the
app's locale negotiator chooses.  The plugin's own negotiator
(:func:`locale_negotiator`, opt-in: ``ekn_saml.host_wide.locale_negotiator``,
the demo takes it) chooses, in this order, by the ``ekn_lang`` cookie (set
by the plugin's language switch, route ``saml.lang``), by the best
``Accept-Language`` match among the two, and otherwise Swedish.  A host with
a negotiator of its own decides for the plugin's pages too; to honour the
plugin's language switch it asks :func:`chosen_language`.

Every user-visible string has an English msgid in the ``ekn_saml`` gettext
domain: Python code marks strings with :data:`_` and translates them with
``request.localizer.translate``; templates use ``{% trans %}`` and ``_()``.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.request import Request

from .constants import (
    EIDAS_NF_HIGH,
    EIDAS_NF_LOW,
    EIDAS_NF_SUB,
    LOA2,
    LOA2_NONRESIDENT,
    LOA3,
    LOA3_NONRESIDENT,
    UNCERTIFIED_LOA3,
)
from .errors import BadRequestError, ConfigurationError, ErrorCode
from .interfaces import ISamlServiceProvider
from .methods import built_in
from .public_url import public_url
from .safe_url import is_safe_local_path

DOMAIN = "ekn_saml"
LANGUAGES = ("sv", "en")  # the first is the default
DEFAULT_LANGUAGE = LANGUAGES[0]
COOKIE_NAME = "ekn_lang"
COOKIE_MAX_AGE = 365 * 24 * 60 * 60

_ = TranslationStringFactory(DOMAIN)


def chosen_language(request: Request) -> str | None:
    """The language the user chose with the plugin's language switch (the ``ekn_lang`` cookie), or ``None``.

    Only ``sv`` or ``en``; any other cookie value counts as no choice.  For
    a host's own locale negotiator, so that the switch on the plugin's pages
    works under it.
    """
    chosen = request.cookies.get(COOKIE_NAME)
    return chosen if chosen in LANGUAGES else None


def locale_negotiator(request: Request) -> str:
    """The ``ekn_lang`` cookie wins, then Accept-Language, then Swedish."""
    chosen = chosen_language(request)
    if chosen is not None:
        return chosen
    # RFC 4647 lookup: "en-GB" falls back to "en"; "q=0" excludes a language.
    return request.accept_language.lookup(LANGUAGES, default=DEFAULT_LANGUAGE)


def method_label(request: Request, name: str) -> str:
    """The translated name of a built-in login method (:mod:`ekn_saml.methods`), or ``name`` for another."""
    method = built_in(name)
    return request.localizer.translate(method.label) if method is not None else name


def method_description(request: Request, name: str) -> str:
    """One translated sentence about a built-in login method, or ``""`` for another."""
    method = built_in(name)
    return request.localizer.translate(method.description) if method is not None else ""


# Times are shown as the users live them: Swedish time, with its zone (CET or
# CEST).  zoneinfo reads the system's tz database, or the tzdata package
# (an install requirement) where the system has none.
SWEDISH_TIME = ZoneInfo("Europe/Stockholm")

# The levels of assurance in words; another URI is shown as it is.
_LOA_LABELS = {
    LOA2: _("Level of assurance 2"),
    LOA2_NONRESIDENT: _("Level of assurance 2, without a Swedish personal identity number"),
    LOA3: _("Level of assurance 3"),
    LOA3_NONRESIDENT: _("Level of assurance 3, without a Swedish personal identity number"),
    UNCERTIFIED_LOA3: _("Level of assurance 3, not reviewed"),
    # a foreign e-ID through the eIDAS connector: the notified levels (Registry 3.1.1)
    EIDAS_NF_LOW: _("eIDAS level low, notified e-ID"),
    EIDAS_NF_SUB: _("eIDAS level substantial, notified e-ID"),
    EIDAS_NF_HIGH: _("eIDAS level high, notified e-ID"),
}


def loa_label(request: Request, uri: str) -> str:
    """The level of assurance ``uri`` in words in the page's language ("Tillitsnivå 3"), else ``uri``."""
    label = _LOA_LABELS.get(uri)
    return request.localizer.translate(label) if label is not None else uri


def idp_name(request: Request, entity_id: str) -> tuple[str, str | None]:
    """The IdP's ``mdui:DisplayName`` from trusted metadata and its language, for the page's language.

    The name in the page's language, else in Swedish or English, else in any;
    ``(entity_id, None)`` for an IdP without one (or no longer trusted).  A
    page marks a name in another language than its own with ``lang``.
    """
    sp = request.registry.queryUtility(ISamlServiceProvider)
    idp = sp.registry.get(entity_id) if sp is not None else None
    names = {lang: text for lang, text in (idp.display_names if idp is not None else {}).items() if text}
    for language in (request.locale_name, *LANGUAGES, *names):
        if language in names:
            return names[language], language
    return entity_id, None


def swedish_time(moment: dt.datetime) -> dt.datetime:
    """``moment`` (aware) in Swedish time, Europe/Stockholm."""
    return moment.astimezone(SWEDISH_TIME)


def set_language(request: Request) -> HTTPSeeOther:
    """Remember the chosen language in a cookie and go back to ``next``.

    Only ``sv`` and ``en`` are accepted: another code raises
    :class:`~ekn_saml.errors.BadRequestError` (``UNKNOWN_LANGUAGE``), which the
    plugin's exception view shows as its bad-request page, in the language the
    user already has, and no cookie is set.  ``next`` is followed only when it
    is a plain local path, so the switch cannot be used as an open redirect.
    The ``Location`` is absolute on ``ekn_saml.sp.public_base_url``
    (:func:`~ekn_saml.public_url.public_url`), whatever the Host header says,
    so the switch needs the plugin's settings (``config.include("ekn_saml")``).
    """
    code = request.matchdict["code"]
    if code not in LANGUAGES:
        # the code comes from the URL: cut and repr'd, it cannot flood or forge the log line
        raise BadRequestError(ErrorCode.UNKNOWN_LANGUAGE, f"no language {code[:32]!r}")
    target = request.params.get("next", "")
    if not is_safe_local_path(target):
        target = (request.script_name or "") + "/"
    response = HTTPSeeOther(location=public_url(request, target))
    response.set_cookie(
        COOKIE_NAME,
        code,
        max_age=COOKIE_MAX_AGE,
        path="/",
        secure=request.scheme == "https",
        httponly=True,
        samesite="Lax",
    )
    return response


def _check_jinja2_environment(config) -> None:
    """Refuse to start with a Jinja2 setup our templates are unsafe or untranslated in."""
    env = config.get_jinja2_environment()
    problems = []
    if env is None:
        problems.append("no Jinja2 renderer is registered for '.jinja2'")
    else:
        if not env.autoescape:
            # The pages echo SAML fields and RelayState: escaping is not optional.
            problems.append("jinja2.autoescape must be true for ekn_saml templates")
        wrapper = getattr(env.globals.get("gettext"), "__self__", None)
        domain = getattr(wrapper, "domain", DOMAIN)
        if domain != DOMAIN:
            problems.append(
                f"the '.jinja2' renderer translates in gettext domain {domain!r}; ekn_saml "
                f"templates need {DOMAIN!r} (set jinja2.i18n.domain = {DOMAIN})"
            )
    if problems:
        raise ConfigurationError(problems)


def includeme(config) -> None:
    """Register the plugin's translations, Jinja2 and the language switch (``config.include("ekn_saml")`` does).

    * translation directory ``ekn_saml:locale/`` (gettext domain ``ekn_saml``);
    * ``pyramid_jinja2`` with the ``.jinja2`` renderer; when this module is the
      first to include it, its gettext domain defaults to ``ekn_saml`` and
      autoescaping is on, and a deferred check fails at startup otherwise;
    * route ``saml.lang`` (``/lang/{code}``) and its view :func:`set_language`.

    It does **not** set the app's locale negotiator: that is the host's, or
    the opt-in :func:`add_locale_negotiator`.
    """
    config.add_translation_dirs("ekn_saml:locale/")

    config.include("pyramid_jinja2")
    # pyramid_jinja2 builds the environment in a deferred action (order 0) and
    # extends it at order 1, so the check runs after both.
    config.action(None, _check_jinja2_environment, args=(config,), order=10)

    config.add_route("saml.lang", "/lang/{code}")
    config.add_view(set_language, route_name="saml.lang", request_method="GET")


def add_locale_negotiator(config) -> None:
    """Opt-in, host-wide: make :func:`locale_negotiator` the app's (``ekn_saml.host_wide.locale_negotiator``)."""
    config.set_locale_negotiator(locale_negotiator)
