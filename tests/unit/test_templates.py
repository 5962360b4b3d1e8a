# SPDX-License-Identifier: Apache-2.0
"""ekn_saml's templates and static files, rendered in a tiny app with dummy vars."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from types import SimpleNamespace as Namespace
from zoneinfo import ZoneInfo

import pytest
from pyramid.config import Configurator
from pyramid.events import BeforeRender
from pyramid.renderers import render_to_response
from webtest import TestApp

from ekn_saml.csrf import csrf_token
from ekn_saml.errors import ErrorFamily, Refusal
from ekn_saml.login_state import remember_identity
from ekn_saml.methods import BUILT_IN_METHODS, built_in
from ekn_saml.settings import SupportContact
from ekn_saml.views import template_values
from ekn_saml.views.errors import FAMILY_TEMPLATES

from testbed import person_identity

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "ekn_saml" / "templates"
STATIC = ROOT / "ekn_saml" / "static"
# the views pass these StrEnum members; the families with a page of their own are tested below
FAMILIES = tuple(f for f in ErrorFamily if f not in FAMILY_TEMPLATES)
# the calm page: a deliberate cancel shows no error box (no code, no reference)
CALM = (ErrorFamily.CANCELLED,)
# pages whose way on is not "try again": a fault of ours, a refusal, no such page, a cancel
NO_RETRY = (ErrorFamily.CONFIGURATION, ErrorFamily.REFUSED, ErrorFamily.NOT_FOUND, ErrorFamily.CANCELLED)
REFUSALS = tuple(Refusal)
SUPPORT = SupportContact(
    email="kundservice@ekn.example",
    phone="+46 8 000 00 00",
    opening_hours=(("sv", "vardagar 9–16"), ("en", "weekdays 9–16")),
    form_url=(("sv", "https://ekn.example/kontakt"), ("en", "https://ekn.example/en/contact")),
)

PERSON = Namespace(
    kind="person",
    method="mobilt_bankid",
    method_label="Mobilt BankID",
    display_name="Tolvan Tolvansson",
    given_name="Tolvan",
    surname="Tolvansson",
    personal_number_masked="19121212-XXXX",
    date_of_birth="1912-12-12",
    org_number=None,
    org_name=None,
    org_unique_id=None,
    loa="http://id.elegnamnden.se/loa/1.0/loa3",
    idp="https://idp.example.se",
    authn_instant=dt.datetime(2024, 5, 1, 8, 30, tzinfo=dt.UTC),
    transaction_id="txn-1",
)
ORGANISATION = Namespace(
    kind="organisation",
    method="expisoft",
    method_label="Expisoft e-tjänstelegitimation",
    display_name="Anna Andersson",
    given_name="Anna",
    surname="Andersson",
    personal_number_masked=None,
    date_of_birth=None,
    org_number="5561234567",
    org_name="Exportbolaget AB",
    org_unique_id="E1234",
    loa="http://id.elegnamnden.se/loa/1.0/loa3",
    idp="https://expisoft.example.se",
    authn_instant=dt.datetime(2024, 5, 1, 8, 30, tzinfo=dt.UTC),
    transaction_id=None,
)
METHODS = [
    Namespace(
        name="mobilt_bankid",
        label="Mobilt BankID",
        description="Appen i mobilen.",
        url="/login/mobilt_bankid?next=%2F",
        logo="/saml-static/logos/mobilt_bankid.svg",
    ),
    Namespace(
        name="bankid",
        label="BankID på fil eller kort",
        description="På datorn.",
        url="/login/bankid",
        logo="/saml-static/logos/bankid.svg",
    ),
    Namespace(
        name="expisoft",
        label="Expisoft e-tjänstelegitimation",
        description="För organisationer.",
        url="/login/expisoft",
        logo="/saml-static/logos/expisoft.svg",
    ),
    Namespace(name="freja", label="Freja eID", description="Okänd metod.", url="/login/freja", logo=None),
]
# what views.pages.help_page gives the help page: each configured method, built in or not (freja)
HELP_METHODS = [
    Namespace(label=m.label, anchor=m.name.replace("_", "-"), help_template=built_in(m.name).help_template)
    for m in METHODS[:3]
] + [Namespace(label="Freja eID", anchor="freja", help_template=None)]
SUPPORT_LINKS = [
    ("BankID support", BUILT_IN_METHODS["bankid"].support_url),
    ("Expisoft support", BUILT_IN_METHODS["expisoft"].support_url),
]
PERSONAS = [
    Namespace(id="tolvan", label="Tolvan Tolvansson (Mobilt BankID)", method="mobilt_bankid"),
    Namespace(id="anna", label="Anna Andersson (Expisoft)", method="expisoft"),
]

# Dummy vars for every template, as the views pass them.
VARS = {
    "chooser": {"methods": METHODS, "next": "/mina-sidor"},
    "help": {"methods": HELP_METHODS, "support_links": SUPPORT_LINKS},
    "error": {"family": "invalid_response", "code": "EKN-SIG-002", "reference": "A1B2C3D4E5", "retry_url": "/login"},
    "autopost": {
        "action": "https://idp.example.se/sso",
        "fields": {"SAMLRequest": "PHNhbWxwOkF1dGhuUmVxdWVzdC8+", "RelayState": "abc"},
        "button_label": "Fortsätt",
    },
    "mina_sidor": {"identity": PERSON},
    "devidp_login": {
        "personas": PERSONAS,
        "method": "expisoft",
        "fields": {"SAMLRequest": "eJzz", "RelayState": "r1", "SigAlg": "alg", "Signature": "sig"},
        "action": "/devidp/sso",
    },
    "logged_out": {},
    "error_step_up": {
        "family": "step_up_mismatch",
        "code": "EKN-REQ-008",
        "reference": "A1B2C3D4E5",
        "retry_url": "/login",
    },
    "choose_organisation": {
        "affiliations": [
            Namespace(value="E1234@5561234567", org_number="5561234567", uid="E1234", current=True),
            Namespace(value="A9@2021005489", org_number="2021005489", uid="A9", current=False),
        ],
        "next": "/mina-sidor",
    },
    "sign_application": {
        "display_name": "Tolvan Tolvansson",
        "method_label": "BankID",
        "stepped_up_at": dt.datetime(2024, 5, 1, 8, 30, tzinfo=dt.UTC),
        "within_minutes": 5,
        "signed": False,
        "csrf_token": "t" * 43,
        "back_url": "/mina-sidor",
    },
}
TEMPLATE_NAMES = sorted(VARS)


def logged_in_from_header(event):
    """What ekn_saml.views.template_values gives the templates, with the login taken from X-Test-User."""
    user = event["request"].headers.get("X-Test-User")
    event["saml_identity"] = Namespace(display_name=user) if user else None
    event["saml_csrf_token"] = lambda: "t" * 43
    event["saml_landing_path"] = "/mina-sidor"
    # X-Test-Session-End: "absolute" when the session ends by its absolute timeout
    by = event["request"].headers.get("X-Test-Session-End", "idle")
    event["saml_session_end"] = (
        Namespace(
            seconds_left=1500,
            warn_before=120,
            at=dt.datetime(2024, 5, 1, 10, 55, tzinfo=ZoneInfo("Europe/Stockholm")),
            by=by,
            extendable=by == "idle",
        )
        if user
        else None
    )
    # X-Test-Support: none: no customer service configured
    event["saml_support"] = None if event["request"].headers.get("X-Test-Support") == "none" else SUPPORT


def make_app(overrides=None):
    """An app with the i18n, locale negotiator and headers includes and a /render/{name} view."""
    config = Configurator()
    config.include("ekn_saml.i18n")
    config.include("ekn_saml.host_wide.locale_negotiator")
    config.include("ekn_saml.headers")
    config.add_subscriber(logged_in_from_header, BeforeRender)
    config.add_static_view("saml-static", "ekn_saml:static/")
    # the real routes belong to ekn_saml.routes; the templates need only their names
    config.add_route("saml.login", "/login")
    config.add_route("saml.logout", "/logout")
    config.add_route("saml.help", "/help")
    config.add_route("saml.choose_organisation", "/choose-organisation")
    config.add_route("saml.session_extend", "/session/extend")

    def render(request):
        name = request.matchdict["name"]
        values = dict(VARS[name], **(overrides or {}))
        return render_to_response(f"ekn_saml:templates/{name}.jinja2", values, request=request)

    config.add_route("render", "/render/{name}")
    config.add_view(render, route_name="render")
    return TestApp(config.make_wsgi_app())


def get(name, lang="sv", overrides=None, **kw):
    return make_app(overrides).get(f"/render/{name}", headers={"Accept-Language": lang, **kw.pop("headers", {})}, **kw)


def text_of(page, selector):
    """Whitespace-normalised text of the first match in a response or parsed page."""
    html = getattr(page, "html", page)
    return " ".join(html.select_one(selector).get_text().split())


# --- every template ---------------------------------------------------------------------


def test_every_template_has_dummy_vars():
    assert {p.stem for p in TEMPLATES.glob("*.jinja2")} == set(VARS) | {"layout"}


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
@pytest.mark.parametrize("lang", ["sv", "en"])
def test_template_renders_with_lang_attribute(name, lang):
    assert get(name, lang).html.html["lang"] == lang


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_template_heading_is_translated(name):
    assert text_of(get(name, "sv"), "h1") != text_of(get(name, "en"), "h1")


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_template_has_exactly_one_h1(name):
    assert len(get(name).html.select("h1")) == 1


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_template_title_names_the_service(name):
    assert get(name).html.title.get_text().endswith("– EKN Online")


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_every_form_control_has_a_label(name):
    html = get(name, headers={"X-Test-User": "Tolvan"}).html
    for control in html.select("input:not([type=hidden]), select, textarea"):
        assert html.select_one(f'label[for="{control["id"]}"]') is not None, control


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_rendered_page_has_no_inline_script_style_or_handler(name):
    html = get(name, headers={"X-Test-User": "Tolvan"}).html
    assert [s for s in html.select("script") if not s.get("src") or s.get_text().strip()] == []
    assert html.select("style, [style]") == []
    assert [tag.name for tag in html.find_all(True) if any(a.startswith("on") for a in tag.attrs)] == []


@pytest.mark.parametrize("path", sorted(TEMPLATES.glob("*.jinja2")), ids=lambda p: p.name)
def test_template_source_has_no_inline_script_style_or_handler(path):
    source = path.read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)", source)
    assert not re.search(r"<style|\sstyle=", source)
    assert not re.search(r"\son[a-z]+=", source)


@pytest.mark.parametrize("path", sorted(TEMPLATES.glob("*.jinja2")), ids=lambda p: p.name)
def test_template_source_has_no_autoescape_bypass(path):
    assert not re.search(r"\|\s*safe\b|autoescape\s+false|Markup\(", path.read_text(encoding="utf-8"))


# --- layout -------------------------------------------------------------------------------


def test_layout_has_viewport_meta():
    assert get("help").html.select_one('meta[name="viewport"]')["content"] == "width=device-width, initial-scale=1"


def test_layout_skip_link_targets_main():
    html = get("help").html
    skip = html.select_one("body > a.skip-link")
    assert skip["href"] == "#main"
    assert html.select_one("main#main") is not None


def test_layout_has_header_main_and_footer_landmarks():
    html = get("help").html
    assert [html.select_one(tag) is not None for tag in ("header", "main", "footer", "nav")] == [True] * 4


def test_layout_shows_the_brand():
    assert text_of(get("help"), "header .brand") == "EKN Online"


def test_language_switch_links_back_to_this_page():
    hrefs = [a["href"] for a in get("help").html.select("nav.lang-switch a")]
    assert hrefs == ["/lang/sv?next=%2Frender%2Fhelp", "/lang/en?next=%2Frender%2Fhelp"]


def test_language_switch_after_a_post_leads_to_the_login_page():
    res = make_app().post("/render/error", headers={"Accept-Language": "sv"})
    hrefs = [a["href"] for a in res.html.select("nav.lang-switch a")]
    assert hrefs == ["/lang/sv?next=%2Flogin", "/lang/en?next=%2Flogin"]


def test_language_switch_marks_the_current_language():
    current = get("help", "en").html.select("nav.lang-switch a[aria-current]")
    assert [a["lang"] for a in current] == ["en"]


def test_language_switch_has_a_translated_name():
    assert get("help", "sv").html.select_one("nav.lang-switch")["aria-label"] == "Språk"


def test_footer_links_to_help():
    assert get("chooser").html.select_one("footer a")["href"] == "/help"


def test_no_logout_form_when_anonymous():
    assert get("help").html.select_one("form.logout-form") is None


def test_logout_form_posts_with_csrf_token_when_logged_in():
    form = get("help", headers={"X-Test-User": "Tolvan"}).html.select_one("form.logout-form")
    assert (form["method"], form["action"]) == ("post", "/logout")
    assert len(form.select_one('input[name="csrf_token"]')["value"]) >= 32


def test_logout_button_is_translated():
    res = get("help", "sv", headers={"X-Test-User": "Tolvan"})
    assert text_of(res, "form.logout-form button") == "Logga ut"


# --- session expiry --------------------------------------------------------------------------


def test_a_logged_in_page_carries_the_expiry_warning_hidden_until_due():
    html = get("help", "en", headers={"X-Test-User": "Tolvan"}).html
    box = html.select_one("#session-expiry")
    assert (box["data-seconds-left"], box["data-warn-before"]) == ("1500", "120")
    assert box.select_one("[data-session-warning]").has_attr("hidden")
    assert box.select_one("[aria-live]") is not None
    assert html.select_one('script[src$="/session-expiry.js"]').has_attr("defer")


def test_the_stay_logged_in_form_posts_with_the_token_and_comes_back():
    form = get("help", headers={"X-Test-User": "Tolvan"}).html.select_one(".session-expiry__warning form")
    assert (form["method"], form["action"]) == ("post", "/session/extend")
    assert form.select_one('input[name="next"]')["value"] == "/render/help"
    assert len(form.select_one('input[name="csrf_token"]')["value"]) >= 32


def test_without_script_a_note_says_when_the_session_ends_in_swedish_time():
    note = get("help", "sv", headers={"X-Test-User": "Tolvan"}).html.select_one("#session-expiry noscript")
    assert "10:55" in note.get_text() and "svensk tid" in note.get_text()
    assert note.select_one('[data-testid="stay-logged-in"]') is not None


def test_an_absolute_end_offers_no_stay_logged_in():
    html = get("help", "en", headers={"X-Test-User": "Tolvan", "X-Test-Session-End": "absolute"}).html
    assert html.select('[data-testid="stay-logged-in"]') == []


def test_an_anonymous_page_has_no_expiry_warning():
    html = get("help").html
    assert html.select("#session-expiry") == [] and html.select('script[src$="/session-expiry.js"]') == []


@pytest.mark.parametrize(
    "timed_out, minutes, words",
    [
        ("idle", 30, "after 30 minutes without activity"),
        ("absolute", 480, "at most 8 hours"),
        ("absolute", 90, "at most 90 minutes"),
    ],
)
def test_the_chooser_says_why_the_session_ended(timed_out, minutes, words):
    html = get("chooser", "en", {"timed_out": timed_out, "timeout_minutes": minutes}).html
    notice = html.select_one('[data-testid="timed-out"]')
    assert notice["data-timeout"] == timed_out and notice["role"] == "status"
    assert words in " ".join(notice.get_text().split())


def test_the_chooser_has_no_timeout_note_by_default():
    assert get("chooser", "en").html.select('[data-testid="timed-out"]') == []


# --- chooser -------------------------------------------------------------------------------


def test_chooser_heading():
    assert text_of(get("chooser", "en"), "h1") == "Log in to EKN Online"


def test_chooser_links_every_method_to_its_url():
    links = get("chooser").html.select("ul.methods a")
    assert [a["href"] for a in links] == [m.url for m in METHODS]


def test_chooser_shows_label_and_description():
    first = get("chooser").html.select_one("ul.methods a")
    assert " ".join(first.get_text().split()) == "Mobilt BankID Appen i mobilen."


def test_chooser_shows_logos_only_for_known_methods():
    logos = [img["src"] for img in get("chooser").html.select("ul.methods img")]
    assert logos == [
        "/saml-static/logos/mobilt_bankid.svg",
        "/saml-static/logos/bankid.svg",
        "/saml-static/logos/expisoft.svg",
    ]


def test_chooser_logos_are_decorative():
    assert {img["alt"] for img in get("chooser").html.select("ul.methods img")} == {""}


def test_chooser_warns_against_logging_in_for_strangers():
    assert "someone you do not know" in text_of(get("chooser", "en"), ".notice--warning")


def test_chooser_links_to_help():
    assert "/help" in [a["href"] for a in get("chooser").html.select("main a")]


# --- help ----------------------------------------------------------------------------------


def test_help_links_to_bankid_support():
    link = get("help", "en").html.find("a", string="BankID support")
    assert link["href"] == BUILT_IN_METHODS["bankid"].support_url


def test_help_links_to_expisoft():
    link = get("help", "en").html.find("a", string="Expisoft support")
    assert link["href"] == BUILT_IN_METHODS["expisoft"].support_url


def test_help_lists_a_method_without_a_section_without_a_link():
    """A method configured whole in the settings has no help section: its name is not a dead link."""
    item = get("help", "en").html.find("li", string="Freja eID")
    assert item is not None and item.find("a") is None


@pytest.mark.parametrize(
    "fact",
    [
        "ID card or a driving licence",
        "someone you do not know or do not trust",
        "is a criminal offence",
        "App Store (iOS) or Google Play (Android)",
        "get a code to activate Mobile BankID",
        "install the BankID security program",
        "card reader",
        "BankID on file as your bank describes",
        "does not contain your personal identity number",
        "usually your employee number",
        "power of attorney",
        "by post",
        "certificate and a PIN code",
        "cannot give technical support",
        "contact the issuer of your e-ID first",
    ],
)
def test_help_states_the_fact(fact):
    assert fact in " ".join(get("help", "en").html.main.get_text().split())


def test_help_names_the_customer_service():
    box = get("help", "en").html.select_one('#help-contact-ekn ~ [data-testid="support-contact"]')
    assert box.select_one('[data-testid="support-email"]').get_text() == "kundservice@ekn.example"


def test_help_links_the_expisoft_order_form_in_the_pages_language():
    sv = get("help", "sv").html.select_one('[data-testid="expisoft-order"]')["href"]
    en = get("help", "en").html.select_one('[data-testid="expisoft-order"]')["href"]
    assert sv.startswith("https://eid.expisoft.se/") and en.startswith("https://eid.expisoft.se/en/")


def test_help_marks_the_swedish_term_in_english():
    assert "e-tjänstelegitimation" in [s.get_text() for s in get("help", "en").html.select('main [lang="sv"]')]


@pytest.mark.parametrize("name", ["help", "chooser"])
def test_a_logged_in_user_is_told_so_and_led_back(name):
    html = get(name, "en", headers={"X-Test-User": "Tolvan"}).html
    assert "Tolvan" in html.select_one('[data-testid="logged-in-note"]').get_text()
    assert html.select_one('[data-testid="back-to-service"]')["href"] == "/mina-sidor"


@pytest.mark.parametrize("name", ["help", "chooser"])
def test_an_anonymous_user_gets_no_logged_in_note(name):
    assert get(name, "en").html.select('[data-testid="logged-in-note"]') == []


def test_help_is_in_swedish_by_default():
    assert "e-tjänstelegitimation" in get("help").html.main.get_text()


# --- error ----------------------------------------------------------------------------------


ERROR_FAMILIES = [f for f in FAMILIES if f not in CALM]


@pytest.mark.parametrize("family", ERROR_FAMILIES)
def test_error_page_shows_error_code(family):
    res = get("error", "en", {"family": family})
    assert "Error code: EKN-SIG-002" in res.html.main.get_text()


@pytest.mark.parametrize("family", ERROR_FAMILIES)
def test_error_page_shows_reference(family):
    assert "Referens: A1B2C3D4E5" in get("error", "sv", {"family": family}).html.main.get_text()


@pytest.mark.parametrize("family", ERROR_FAMILIES)
def test_error_page_names_the_customer_service_beside_the_code(family):
    box = get("error", "en", {"family": family}).html.select_one(".error-ids")
    assert box.select_one('[data-testid="support-email"]')["href"] == "mailto:kundservice@ekn.example"
    assert box.select_one('[data-testid="support-phone"]')["href"] == "tel:+4680000000"
    assert box.select_one('[data-testid="support-form"]')["href"] == "https://ekn.example/en/contact"


def test_support_form_and_hours_follow_the_language():
    box = get("error", "sv").html.select_one('[data-testid="support-contact"]')
    assert box.select_one('[data-testid="support-form"]')["href"] == "https://ekn.example/kontakt"
    assert "vardagar 9–16" in box.get_text()


def test_without_a_configured_service_the_page_still_says_whom_to_contact():
    box = get("error", "en", headers={"X-Test-Support": "none"}).html.select_one('[data-testid="support-contact"]')
    assert box.select("a") == [] and box.get_text().strip()


def test_cancelled_page_is_calm():
    html = get("error", "en", {"family": "cancelled"}).html
    assert html.select(".error-ids") == [] and "EKN-SIG-002" not in html.main.get_text()
    assert html.select_one('[data-testid="retry"]')["href"] == "/login"


def test_still_logged_in_page_is_calm():
    html = get("error", "en", {"family": "request_state", "continue_url": "/mina-sidor"}).html
    assert html.select(".error-ids") == []
    assert html.select_one('[data-testid="continue"]')["href"] == "/mina-sidor"


@pytest.mark.parametrize("refusal", REFUSALS)
def test_refusal_page_says_why_and_offers_no_retry(refusal):
    html = get("error", "en", {"family": "refused", "refusal": refusal}).html
    page = html.select_one(".error-page")
    assert (page["data-refusal"], page["data-permanent"]) == (refusal, "true")
    assert html.find("a", string="Try again") is None
    assert html.select_one('[data-testid="other-method"]')["href"] == "/login"
    assert html.select_one('[data-testid="refusal"]').get_text().strip()


def test_refusal_pages_have_their_own_headings():
    headings = {text_of(get("error", "en", {"family": "refused", "refusal": r}), "h1") for r in REFUSALS}
    assert len(headings) == len(REFUSALS)


def test_transient_error_is_not_marked_permanent():
    assert get("error", "en").html.select_one(".error-page")["data-permanent"] == "false"


def test_not_found_page_leads_to_the_login_page():
    html = get("error", "sv", {"family": "not_found", "code": "EKN-WEB-404"}).html
    assert text_of(html, "h1") == "Sidan kunde inte hittas"
    assert html.select_one('[data-testid="home"]')["href"] == "/login"


def test_not_found_page_leads_a_logged_in_user_to_the_service():
    html = get("error", "en", {"family": "not_found"}, headers={"X-Test-User": "Tolvan"}).html
    assert html.select_one('[data-testid="home"]')["href"] == "/mina-sidor"


def test_error_page_language_switch_uses_its_own_link():
    html = get("error", "en", {"page_lang_next": "/login-error?page=x"}).html
    assert [a["href"] for a in html.select("nav.lang-switch a")] == [
        "/lang/sv?next=%2Flogin-error%3Fpage%3Dx",
        "/lang/en?next=%2Flogin-error%3Fpage%3Dx",
    ]


@pytest.mark.parametrize("family", FAMILIES)
def test_error_page_has_its_own_heading(family):
    assert text_of(get("error", "en", {"family": family}), "h1") != "The login could not be completed"


def test_error_headings_differ_per_family():
    headings = {text_of(get("error", "en", {"family": family}), "h1") for family in FAMILIES}
    assert len(headings) == len(FAMILIES)


@pytest.mark.parametrize("family", [f for f in FAMILIES if f not in NO_RETRY])
def test_error_page_offers_to_try_again(family):
    link = get("error", "en", {"family": family}).html.find("a", string="Try again")
    assert link["href"] == "/login"


def test_configuration_error_does_not_offer_to_try_again():
    assert get("error", "en", {"family": "configuration"}).html.find("a", string="Try again") is None


def test_cancelled_page():
    assert text_of(get("error", "en", {"family": "cancelled"}), "h1") == "You cancelled the login"


def test_fraud_page_is_an_alert():
    alert = get("error", "en", {"family": "fraud"}).html.select_one('[role="alert"]')
    assert "stop now and do not continue" in alert.get_text()


def test_request_state_page_mentions_the_back_button():
    assert "back button" in get("error", "en", {"family": "request_state"}).html.main.get_text()


def test_unknown_family_gets_a_generic_page():
    res = get("error", "en", {"family": "something_new"})
    assert text_of(res, "h1") == "The login could not be completed"


def test_error_values_are_escaped():
    res = get("error", "en", {"code": "<b>x</b>"})
    assert "Error code: <b>x</b>" in res.html.main.get_text()
    assert res.html.main.select("b") == []


# --- autopost -----------------------------------------------------------------------------------


def test_autopost_form_posts_to_action():
    form = get("autopost").html.select_one("form[data-auto-submit]")
    assert (form["method"], form["action"]) == ("post", "https://idp.example.se/sso")


def test_autopost_form_carries_the_fields_hidden():
    inputs = get("autopost").html.select('form[data-auto-submit] input[type="hidden"]')
    assert {i["name"]: i["value"] for i in inputs} == VARS["autopost"]["fields"]


def test_autopost_has_a_visible_submit_button():
    assert text_of(get("autopost"), 'form[data-auto-submit] button[type="submit"]') == "Fortsätt"


def test_autopost_loads_the_autosubmit_script_deferred():
    script = get("autopost").html.select_one("script")
    assert script["src"] == "/saml-static/autosubmit.js"
    assert script.has_attr("defer")


def test_autopost_escapes_field_values():
    res = get("autopost", overrides={"fields": {"RelayState": '"><script>alert(1)</script>'}})
    assert res.html.select_one('input[name="RelayState"]')["value"] == '"><script>alert(1)</script>'
    assert len(res.html.select("script")) == 1


def test_only_autopost_loads_a_script():
    assert [name for name in TEMPLATE_NAMES if get(name).html.select("script")] == ["autopost"]


# --- mina sidor --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("testid", "value"),
    [
        ("display-name", "Tolvan Tolvansson"),
        ("method", "Mobilt BankID"),
        ("loa", "http://id.elegnamnden.se/loa/1.0/loa3"),
        ("personal-number", "19121212-XXXX"),
    ],
)
def test_mina_sidor_shows_person(testid, value):
    assert text_of(get("mina_sidor"), f'dd[data-testid="{testid}"]') == value


def test_mina_sidor_welcomes_by_name():
    assert text_of(get("mina_sidor", "en"), "h1") == "Welcome, Tolvan Tolvansson"


def test_mina_sidor_hides_organisation_for_a_person():
    assert get("mina_sidor").html.select('[data-testid^="org-"]') == []


@pytest.mark.parametrize(
    ("testid", "value"),
    [("org-name", "Exportbolaget AB"), ("org-number", "5561234567"), ("org-unique-id", "E1234")],
)
def test_mina_sidor_shows_organisation(testid, value):
    res = get("mina_sidor", overrides={"identity": ORGANISATION})
    assert text_of(res, f'dd[data-testid="{testid}"]') == value


def test_mina_sidor_leaves_out_missing_personal_number():
    res = get("mina_sidor", overrides={"identity": ORGANISATION})
    assert res.html.select('[data-testid="personal-number"]') == []


def test_mina_sidor_shows_the_facts_in_words():
    words = Namespace(
        **vars(PERSON),
        loa_label="Tillitsnivå 3",
        idp_name="Testlegitimering",
        idp_name_lang="sv",
        authn_instant_local=dt.datetime(2024, 5, 1, 10, 30, tzinfo=ZoneInfo("Europe/Stockholm")),
    )
    html = get("mina_sidor", overrides={"identity": words}).html
    assert text_of(html, 'dd[data-testid="loa"]') == "Tillitsnivå 3"
    assert html.select_one('dd[data-testid="loa"]')["data-loa"] == PERSON.loa
    assert text_of(html, 'dd[data-testid="idp"]') == "Testlegitimering"
    assert not html.select_one('dd[data-testid="idp"]').has_attr("lang")
    assert text_of(html, 'dd[data-testid="authn-instant"]') == "2024-05-01 10:30:00 CEST"
    assert html.select_one("time")["datetime"] == "2024-05-01T10:30:00+02:00"


def test_mina_sidor_marks_an_idp_name_in_another_language():
    other = Namespace(**vars(PERSON), idp_name="Development IdP (bankid)", idp_name_lang="en")
    assert (
        get("mina_sidor", "sv", overrides={"identity": other}).html.select_one('dd[data-testid="idp"]')["lang"] == "en"
    )


def test_mina_sidor_shows_idp_and_time():
    html = get("mina_sidor").html
    assert text_of(html, 'dd[data-testid="idp"]') == "https://idp.example.se"
    assert html.select_one("time")["datetime"] == "2024-05-01T08:30:00+00:00"


# --- development IdP ---------------------------------------------------------------------------


def test_devidp_is_clearly_marked():
    assert "Development IdP – test personas only" in get("devidp_login", "en").html.get_text()


def test_devidp_form_posts_to_action_with_hidden_fields():
    form = get("devidp_login").html.select_one("form.devidp")
    assert (form["method"], form["action"]) == ("post", "/devidp/sso")
    hidden = {i["name"]: i["value"] for i in form.select('input[type="hidden"]')}
    assert hidden == VARS["devidp_login"]["fields"]


def test_devidp_lists_personas_as_radios():
    radios = get("devidp_login").html.select('input[name="persona"]')
    assert [(r["type"], r["value"], r["data-testid"]) for r in radios] == [
        ("radio", "tolvan", "persona-tolvan"),
        ("radio", "anna", "persona-anna"),
    ]


def test_devidp_preselects_a_persona_of_the_requested_method():
    assert get("devidp_login").html.select_one('input[name="persona"][checked]')["value"] == "anna"


def test_devidp_preselects_the_first_persona_without_a_method():
    res = get("devidp_login", overrides={"method": ""})
    assert res.html.select_one('input[name="persona"][checked]')["value"] == "tolvan"


def test_devidp_offers_every_outcome():
    radios = get("devidp_login").html.select('input[name="outcome"]')
    assert [(r["value"], r["data-testid"]) for r in radios] == [
        ("success", "outcome-success"),
        ("cancel", "outcome-cancel"),
        ("fraud", "outcome-fraud"),
        ("possibleFraud", "outcome-possibleFraud"),
        ("authn_failed", "outcome-authn_failed"),
    ]


def test_devidp_outcome_defaults_to_success():
    assert get("devidp_login").html.select_one('input[name="outcome"][checked]')["value"] == "success"


def test_devidp_submit_button():
    button = get("devidp_login", "en").html.select_one("#devidp-submit")
    assert (button["type"], button.get_text().strip()) == ("submit", "Log in as test person")


# --- logged out -----------------------------------------------------------------------------------


def test_logged_out_links_to_login():
    link = get("logged_out", "en").html.find("a", string="Log in again")
    assert link["href"] == "/login"


# --- static files ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["ekn_saml.css", "autosubmit.js", "logos/mobilt_bankid.svg", "logos/bankid.svg", "logos/expisoft.svg"],
)
def test_static_file_is_served(path):
    res = make_app().get(f"/saml-static/{path}")
    assert res.body == (STATIC / path).read_bytes()


def test_autosubmit_script_submits_data_auto_submit_forms():
    source = (STATIC / "autosubmit.js").read_text(encoding="utf-8")
    assert 'querySelector("form[data-auto-submit]")' in source
    assert "DOMContentLoaded" in source


@pytest.mark.parametrize("path", sorted((STATIC / "logos").glob("*.svg")), ids=lambda p: p.name)
def test_logo_has_no_script(path):
    source = path.read_text(encoding="utf-8").lower()
    assert "<script" not in source
    assert not re.search(r"\son[a-z]+=", source)
    assert "href=" not in source


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


CSS_VARS = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{6});", (STATIC / "ekn_saml.css").read_text(encoding="utf-8")))


@pytest.mark.parametrize(
    ("foreground", "background"),
    [
        ("text", "bg"),
        ("muted", "bg"),
        ("link", "bg"),
        ("link-visited", "bg"),
        ("link", "surface"),
        ("link-visited", "surface"),
        ("link", "notice-warning-bg"),
        ("link", "notice-danger-bg"),
        ("muted", "surface"),
        ("text", "surface"),
        ("header-text", "header-bg"),
        ("header-text", "button-hover-bg"),
        ("button-text", "button-bg"),
        ("button-text", "button-hover-bg"),
        ("text", "notice-warning-bg"),
        ("text", "notice-danger-bg"),
        ("dev-text", "dev-bg"),
        ("focus", "bg"),
        ("focus-on-dark", "header-bg"),
    ],
)
def test_colour_pair_contrast_is_at_least_4_5(foreground, background):
    assert _contrast(CSS_VARS[foreground], CSS_VARS[background]) >= 4.5


# --- what the plugin gives its own templates (ekn_saml.views.template_values) -----------------


def _before_render(request, renderer_name):
    return BeforeRender({"request": request, "renderer_name": renderer_name})


def test_the_plugins_templates_get_who_is_logged_in(plugin_request):
    remember_identity(plugin_request, person_identity())
    event = _before_render(plugin_request, "ekn_saml:templates/help.jinja2")
    template_values(event)
    assert event["saml_identity"] == person_identity()


def test_the_plugins_templates_get_its_csrf_token(plugin_request):
    event = _before_render(plugin_request, "ekn_saml:templates/help.jinja2")
    template_values(event)
    assert event["saml_csrf_token"]() == csrf_token(plugin_request)


def test_a_host_template_gets_nothing_of_the_plugins(plugin_request):
    event = _before_render(plugin_request, "hostapp:templates/home.jinja2")
    template_values(event)
    assert "saml_identity" not in event and "saml_csrf_token" not in event


# --- the error pages of their own (ekn_saml.views.errors.FAMILY_TEMPLATES) ----------------


@pytest.mark.parametrize("family, template", sorted(FAMILY_TEMPLATES.items()))
def test_each_own_error_page_is_a_template(family, template):
    assert (TEMPLATES / template.split("/")[-1]).is_file()


@pytest.mark.parametrize("name", ["error_step_up"])
@pytest.mark.parametrize("lang", ["sv", "en"])
def test_own_error_page_shows_code_and_reference(name, lang):
    text = get(name, lang).html.main.get_text()
    assert VARS[name]["code"] in text and "A1B2C3D4E5" in text


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_step_up_refusal_page_says_who_support_is(lang):
    assert get("error_step_up", lang).html.select_one('[data-testid="support-contact"]') is not None


def test_step_up_refusal_page_is_an_alert():
    assert get("error_step_up", "en").html.select_one('[role="alert"]') is not None


def test_step_up_refusal_page_says_so_in_swedish():
    assert text_of(get("error_step_up", "sv"), "h1") == "Du har loggats ut"


def test_sign_page_has_the_csrf_token():
    page = get("sign_application", "en")
    assert page.html.find("input", attrs={"name": "csrf_token"})["value"] == "t" * 43


def test_sign_page_after_signing_shows_the_receipt():
    page = get("sign_application", "sv", {"signed": True})
    assert text_of(page, '[data-testid="signed"]') == "Ansökan har signerats av Tolvan Tolvansson."


def test_devidp_page_shows_the_user_message():
    page = get("devidp_login", "en", {"user_message": "Log in to EKN Online"})
    assert "Log in to EKN Online" in text_of(page, '[data-testid="user-message"]')


def test_devidp_page_preselects_the_principal_selection():
    page = get("devidp_login", "en", {"selected": "tolvan"})
    assert page.html.find("input", attrs={"data-principal-selection": True})["value"] == "tolvan"


def test_chooser_shows_an_unavailable_method_without_a_link():
    methods = [Namespace(**{**vars(m), "unavailable": m.name == "bankid"}) for m in METHODS]
    page = get("chooser", "en", {"methods": methods})
    card = page.html.select_one('[data-method="bankid"]')
    assert card.name != "a" and card.has_attr("data-unavailable")
    assert "Not available right now" in card.get_text()


def test_chooser_links_the_available_methods_beside_an_unavailable_one():
    methods = [Namespace(**{**vars(m), "unavailable": m.name == "bankid"}) for m in METHODS]
    page = get("chooser", "sv", {"methods": methods})
    assert page.html.select_one('a[data-method="expisoft"]')["href"] == "/login/expisoft"


def test_organisation_picker_checks_the_current_organisation():
    page = get("choose_organisation", "sv")
    assert page.html.find(attrs={"data-testid": "org-5561234567"}).has_attr("checked")
    assert "Organisationsnummer 2021005489 (ditt nummer där: A9)" in page.html.main.get_text()


def test_organisation_picker_carries_the_plugins_csrf_token():
    assert get("choose_organisation", "en").html.find("input", attrs={"name": "csrf_token"})["value"] == "t" * 43
