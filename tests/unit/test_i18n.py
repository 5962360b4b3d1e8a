# SPDX-License-Identifier: Apache-2.0
"""ekn_saml.i18n: locale negotiation, the language switch, method labels, catalogues."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationExecutionError
from pyramid.request import Request
from pyramid.response import Response
from webtest import TestApp

from ekn_saml import i18n
from ekn_saml.errors import BadRequestError, ConfigurationError, ErrorCode

ROOT = Path(__file__).resolve().parents[2]
LOCALE_DIR = ROOT / "ekn_saml" / "locale"
LANGS = ("sv", "en")


def _probe(request):
    """Reports the negotiated locale and one translated string."""
    text = request.localizer.translate(i18n._("Log out"))
    return Response(f"{request.locale_name}|{text}")


def _labels(request):
    name = request.matchdict["name"]
    return Response(f"{i18n.method_label(request, name)}|{i18n.method_description(request, name)}")


def make_app(settings=None):
    """The plugin's i18n include and, opted in, its locale negotiator."""
    config = Configurator(settings=settings or {})
    config.include("ekn_saml.i18n")
    config.include("ekn_saml.host_wide.locale_negotiator")
    config.add_route("probe", "/probe")
    config.add_view(_probe, route_name="probe")
    config.add_route("labels", "/labels/{name}")
    config.add_view(_labels, route_name="labels")
    return TestApp(config.make_wsgi_app())


@pytest.fixture
def switch_app(app_settings):
    """The plugin (test federation settings) and its negotiator, plus the probe: the switch's redirect needs ekn_saml.sp.public_base_url."""
    config = Configurator(settings=app_settings)
    config.include("ekn_saml")
    config.include("ekn_saml.host_wide.locale_negotiator")
    config.add_route("probe", "/probe")
    config.add_view(_probe, route_name="probe")
    return TestApp(config.make_wsgi_app())


# --- locale negotiation -------------------------------------------------------


def test_default_language_is_swedish():
    assert make_app().get("/probe").text == "sv|Logga ut"


def test_accept_language_en_gives_english():
    res = make_app().get("/probe", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert res.text == "en|Log out"


def test_accept_language_prefers_the_better_of_sv_and_en():
    res = make_app().get("/probe", headers={"Accept-Language": "de, en;q=0.5, sv;q=0.3"})
    assert res.text.startswith("en|")


def test_unsupported_accept_language_falls_back_to_swedish():
    res = make_app().get("/probe", headers={"Accept-Language": "fr-FR, de"})
    assert res.text.startswith("sv|")


def test_cookie_wins_over_accept_language():
    app = make_app()
    app.set_cookie("ekn_lang", "sv")
    assert app.get("/probe", headers={"Accept-Language": "en"}).text.startswith("sv|")


def test_unknown_cookie_value_is_ignored():
    app = make_app()
    app.set_cookie("ekn_lang", "de")
    assert app.get("/probe", headers={"Accept-Language": "en"}).text.startswith("en|")


def test_the_plugin_sets_no_locale_negotiator_without_the_opt_in():
    config = Configurator()
    config.include("ekn_saml.i18n")
    config.add_route("probe", "/probe")
    config.add_view(_probe, route_name="probe")
    # Pyramid's own negotiator and default locale ("en"), not the plugin's Swedish first
    assert TestApp(config.make_wsgi_app()).get("/probe", headers={"Accept-Language": "sv"}).text.startswith("en|")


def test_chosen_language_is_the_switch_cookie():
    assert i18n.chosen_language(Request.blank("/", headers={"Cookie": "ekn_lang=en"})) == "en"


@pytest.mark.parametrize("cookie", ["", "ekn_lang=de", "ekn_lang="])
def test_chosen_language_is_none_without_a_valid_choice(cookie):
    assert i18n.chosen_language(Request.blank("/", headers={"Cookie": cookie} if cookie else {})) is None


# --- the language switch (route saml.lang) ---------------------------------------


def test_language_switch_sets_cookie_for_a_year(switch_app):
    res = switch_app.get("/lang/en?next=/mina-sidor")
    cookie = res.headers["Set-Cookie"]
    assert cookie.startswith("ekn_lang=en;")
    assert "Max-Age=31536000" in cookie


def test_language_switch_cookie_is_httponly_and_lax(switch_app):
    cookie = switch_app.get("/lang/en").headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_language_switch_cookie_is_not_secure_over_http(switch_app):
    assert "secure" not in switch_app.get("/lang/en").headers["Set-Cookie"].lower()


def test_language_switch_cookie_is_secure_over_https(switch_app):
    res = switch_app.get("/lang/en", extra_environ={"wsgi.url_scheme": "https"})
    assert "; secure" in res.headers["Set-Cookie"].lower()


def test_language_switch_redirects_to_a_local_next(switch_app):
    res = switch_app.get("/lang/en?next=/mina-sidor%3Ftab%3D2")
    assert res.status_int == 303
    assert res.location == "https://sp.example.test/mina-sidor?tab=2"  # on ekn_saml.sp.public_base_url


@pytest.mark.parametrize("target", ["//evil.com", "https://evil.com/", "/\\evil.com", "javascript:alert(1)", ""])
def test_language_switch_refuses_unsafe_next(switch_app, target):
    res = switch_app.get("/lang/en", params={"next": target})
    assert res.location == "https://sp.example.test/"


def test_language_switch_rejects_unknown_language():
    # the plugin's exception view (not included here) turns it into the bad-request page
    with pytest.raises(BadRequestError) as refused:
        make_app().get("/lang/de?next=/")
    assert refused.value.code is ErrorCode.UNKNOWN_LANGUAGE


def test_language_switch_then_pages_use_the_new_language(switch_app):
    switch_app.get("/lang/en")
    assert switch_app.get("/probe", headers={"Accept-Language": "sv"}).text.startswith("en|")


# --- method labels -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "name", "label"),
    [
        ("sv", "mobilt_bankid", "Mobilt BankID"),
        ("en", "mobilt_bankid", "Mobile BankID"),
        ("sv", "bankid", "BankID på fil eller kort"),
        ("en", "bankid", "BankID on file or card"),
        ("sv", "expisoft", "Expisoft e-tjänstelegitimation"),
        ("en", "expisoft", "Expisoft e-service ID"),
    ],
)
def test_method_label_is_translated(lang, name, label):
    res = make_app().get(f"/labels/{name}", headers={"Accept-Language": lang})
    assert res.text.split("|")[0] == label


def test_method_description_is_translated():
    res = make_app().get("/labels/mobilt_bankid", headers={"Accept-Language": "sv"})
    assert res.text.split("|")[1] == "Använd BankID-appen i din mobil eller surfplatta."


def test_unknown_method_falls_back_to_its_name_and_no_description():
    assert make_app().get("/labels/freja").text == "freja|"


# --- the Jinja2 environment must suit the templates ------------------------------


def test_autoescape_off_fails_at_startup():
    with pytest.raises(ConfigurationExecutionError) as failure:
        make_app({"jinja2.autoescape": "false"})
    assert isinstance(failure.value.evalue, ConfigurationError)
    assert "autoescape" in str(failure.value.evalue)


def test_foreign_gettext_domain_fails_at_startup():
    with pytest.raises(ConfigurationExecutionError) as failure:
        make_app({"jinja2.i18n.domain": "hostapp"})
    assert isinstance(failure.value.evalue, ConfigurationError)
    assert "jinja2.i18n.domain = ekn_saml" in str(failure.value.evalue)


# --- catalogues --------------------------------------------------------------------


def _extracted_msgids() -> set[str]:
    """Every msgid in ekn_saml's Python code and templates, as `pybabel extract` sees it."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    msgids = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(str(ROOT), method_map, options_map):
        msgids.add(message if isinstance(message, str) else message[0])
    return msgids


def _singular(msgid) -> str:
    """A message's id: the singular of a plural message (``{% pluralize %}``)."""
    return msgid if isinstance(msgid, str) else msgid[0]


def _texts(value) -> tuple[str, ...]:
    """Every form of a msgid or msgstr: one, or each plural form."""
    return (value,) if isinstance(value, str) else tuple(value)


def _catalog(lang: str):
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / "ekn_saml.po", "rb") as f:
        return read_po(f, locale=lang, domain="ekn_saml")


def test_extraction_finds_the_templates_and_python_messages():
    msgids = _extracted_msgids()
    assert "Log in to EKN Online" in msgids  # a template
    assert "Expisoft e-service ID" in msgids  # ekn_saml/i18n.py


def test_pot_template_is_up_to_date_with_the_sources():
    with open(LOCALE_DIR / "ekn_saml.pot", "rb") as f:
        pot = {_singular(m.id) for m in read_po(f) if m.id}
    assert pot == _extracted_msgids(), "run the catalogue commands (pybabel extract/update/compile)"


def test_every_message_has_a_swedish_translation():
    catalog = _catalog("sv")
    untranslated = sorted(
        msgid
        for msgid in _extracted_msgids()
        if msgid not in catalog or not all(_texts(catalog[msgid].string)) or catalog[msgid].fuzzy
    )
    assert untranslated == []


def test_english_catalogue_lists_every_message():
    catalog = _catalog("en")
    missing = sorted(msgid for msgid in _extracted_msgids() if msgid not in catalog)
    assert missing == []


def test_english_catalogue_has_no_fuzzy_entries():
    assert [m.id for m in _catalog("en") if m.id and m.fuzzy] == []


@pytest.mark.parametrize("lang", LANGS)
def test_translations_keep_the_placeholders(lang):
    placeholder = re.compile(r"%\([a-z_]+\)s")
    wrong = [
        m.id
        for m in _catalog(lang)
        if m.id
        and all(_texts(m.string))
        and any(
            sorted(placeholder.findall(_texts(m.id)[-1])) != sorted(placeholder.findall(text))
            for text in _texts(m.string)
        )
    ]
    assert wrong == []


@pytest.mark.parametrize("lang", LANGS)
def test_compiled_catalogue_matches_the_po_file(lang):
    compiled = io.BytesIO()
    write_mo(compiled, _catalog(lang), use_fuzzy=False)
    mo = (LOCALE_DIR / lang / "LC_MESSAGES" / "ekn_saml.mo").read_bytes()
    assert compiled.getvalue() == mo, "run pybabel compile"


# Swedish words an English page uses as they are: each must be marked lang="sv" (WCAG 3.1.2),
# so that a screen reader reads it with Swedish pronunciation
SWEDISH_TERMS = ("e-tjänstelegitimation", "samordningsnummer", "personnummer", "tillitsnivå")


def test_swedish_terms_in_english_messages_are_marked_as_swedish():
    unmarked = []
    for msgid in _extracted_msgids():
        for term in SWEDISH_TERMS:
            for match in re.finditer(re.escape(term), msgid, re.IGNORECASE):
                before = msgid[: match.start()]
                if not before.endswith('<span lang="sv">') or not msgid[match.end() :].startswith("</span>"):
                    unmarked.append((term, msgid[:60]))
    assert unmarked == []


# --- facts in words: level of assurance, IdP name, Swedish time ---

import datetime as dt  # noqa: E402

from pyramid import testing as pyramid_testing  # noqa: E402

from ekn_saml.i18n import SWEDISH_TIME, idp_name, loa_label, swedish_time  # noqa: E402
from ekn_saml.interfaces import ISamlServiceProvider  # noqa: E402
from ekn_saml.metadata.idp import IdpInfo  # noqa: E402


def _request(lang, idps=()):
    config = pyramid_testing.setUp(settings={})
    config.add_translation_dirs("ekn_saml:locale/")
    by_id = {idp.entity_id: idp for idp in idps}
    config.registry.registerUtility(
        type("SP", (), {"registry": type("R", (), {"get": staticmethod(by_id.get)})()})(), ISamlServiceProvider
    )
    request = pyramid_testing.DummyRequest()
    request.registry = config.registry
    request._LOCALE_ = lang
    return request


@pytest.mark.parametrize(
    "lang, uri, words",
    [
        ("sv", "http://id.elegnamnden.se/loa/1.0/loa3", "Tillitsnivå 3"),
        ("sv", "http://id.swedenconnect.se/loa/1.0/loa3-nonresident", "Tillitsnivå 3, utan svenskt personnummer"),
        ("sv", "http://id.swedenconnect.se/loa/1.0/uncertified-loa3", "Tillitsnivå 3, ej granskad"),
        ("en", "http://id.elegnamnden.se/loa/1.0/loa3", "Level of assurance 3"),
        ("en", "http://id.swedenconnect.se/loa/1.0/uncertified-loa3", "Level of assurance 3, not reviewed"),
        ("sv", "http://id.elegnamnden.se/loa/1.0/eidas-nf-sub", "eIDAS-nivå väsentlig, anmäld e-legitimation"),
        ("en", "http://id.elegnamnden.se/loa/1.0/eidas-nf-high", "eIDAS level high, notified e-ID"),
        ("sv", "http://id.swedenconnect.se/loa/1.0/loa2-nonresident", "Tillitsnivå 2, utan svenskt personnummer"),
        ("en", "http://id.elegnamnden.se/loa/1.0/loa2", "Level of assurance 2"),
        ("en", "http://example.test/loa/other", "http://example.test/loa/other"),
    ],
)
def test_loa_in_words(lang, uri, words):
    try:
        assert loa_label(_request(lang), uri) == words
    finally:
        pyramid_testing.tearDown()


def _idp(names):
    return IdpInfo(entity_id="https://idp.example.test", sso_urls={}, signing_keys=(), display_names=names)


@pytest.mark.parametrize(
    "lang, names, shown",
    [
        ("sv", {"sv": "Testlegitimering", "en": "Test e-ID"}, ("Testlegitimering", "sv")),
        ("en", {"sv": "Testlegitimering", "en": "Test e-ID"}, ("Test e-ID", "en")),
        ("en", {"sv": "Testlegitimering"}, ("Testlegitimering", "sv")),
        ("sv", {"de": "Test-eID"}, ("Test-eID", "de")),
        ("sv", {}, ("https://idp.example.test", None)),
    ],
)
def test_idp_by_its_display_name(lang, names, shown):
    try:
        assert idp_name(_request(lang, [_idp(names)]), "https://idp.example.test") == shown
    finally:
        pyramid_testing.tearDown()


def test_an_idp_not_in_metadata_is_shown_by_its_entity_id():
    try:
        assert idp_name(_request("sv"), "https://gone.example.test") == ("https://gone.example.test", None)
    finally:
        pyramid_testing.tearDown()


@pytest.mark.parametrize(
    "utc, local, zone",
    [((2024, 5, 1, 8, 30), "2024-05-01 10:30", "CEST"), ((2024, 12, 1, 8, 30), "2024-12-01 09:30", "CET")],
)
def test_times_are_shown_in_swedish_time_with_the_zone(utc, local, zone):
    moment = swedish_time(dt.datetime(*utc, tzinfo=dt.UTC))
    assert (moment.strftime("%Y-%m-%d %H:%M"), moment.tzname(), moment.tzinfo) == (local, zone, SWEDISH_TIME)
