# SPDX-License-Identifier: Apache-2.0
"""ekn_saml.login_state: who is logged in lives in the plugin's own session, never in the host's.

Requests are built against a real plugin registry (memory store;
tests/unit/conftest.py); their host ``request.session`` is a plain dict, so
a building block that wrote to it would show.
"""

from __future__ import annotations

from ekn_saml.login_state import forget_identity, identity_of, remember_identity
from ekn_saml.session import IDENTITY_KEY, REQUEST_ATTR, SUBJECT_KEY

from testbed import person_identity as person


def test_nobody_is_logged_in_at_first(plugin_request):
    assert identity_of(plugin_request) is None


def test_a_remembered_identity_is_logged_in(plugin_request):
    remember_identity(plugin_request, person())
    assert identity_of(plugin_request) == person()


def test_remembering_gives_the_session_a_new_id(plugin_request):
    session = getattr(plugin_request, REQUEST_ATTR)
    session["cart"] = "x"
    session.save(plugin_request, plugin_request.response)
    before = session._id
    remember_identity(plugin_request, person())
    assert session._id != before


def test_pre_login_data_stays_with_the_user(plugin_request):
    getattr(plugin_request, REQUEST_ATTR)["cart"] = "x"
    remember_identity(plugin_request, person())
    assert getattr(plugin_request, REQUEST_ATTR)["cart"] == "x"


def test_another_subjects_data_does_not_pass_to_the_new_user(plugin_request):
    remember_identity(plugin_request, person())
    getattr(plugin_request, REQUEST_ATTR)["cart"] = "x"
    remember_identity(plugin_request, person("199001011239"))
    assert "cart" not in getattr(plugin_request, REQUEST_ATTR)


def test_the_host_session_is_not_touched(plugin_request):
    remember_identity(plugin_request, person())
    forget_identity(plugin_request)
    assert plugin_request.session == {}


def test_forgetting_returns_who_was_logged_in(plugin_request):
    remember_identity(plugin_request, person())
    assert forget_identity(plugin_request) == person()


def test_forgetting_logs_out(plugin_request):
    remember_identity(plugin_request, person())
    forget_identity(plugin_request)
    assert identity_of(plugin_request) is None


def test_forgetting_ends_the_whole_plugin_session(plugin_request):
    remember_identity(plugin_request, person())
    getattr(plugin_request, REQUEST_ATTR)["cart"] = "x"
    forget_identity(plugin_request)
    assert dict(getattr(plugin_request, REQUEST_ATTR)) == {}


def test_an_identity_of_an_incompatible_version_counts_as_logged_out(plugin_request):
    session = getattr(plugin_request, REQUEST_ATTR)
    session[IDENTITY_KEY] = {"kind": "person"}  # fields missing
    session[SUBJECT_KEY] = "pnr:x"
    assert identity_of(plugin_request) is None
