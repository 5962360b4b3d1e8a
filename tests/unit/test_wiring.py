# SPDX-License-Identifier: Apache-2.0
"""ekn_saml.wiring and ekn_saml.includeme: services built at commit, registered behind interfaces, nothing host-wide."""

from __future__ import annotations

import os

import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationConflictError, ConfigurationExecutionError
from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound
from pyramid.interfaces import (
    IDefaultCSRFOptions,
    ILocaleNegotiator,
    ISecurityPolicy,
    ISessionFactory,
)

from ekn_saml.errors import ConfigurationError
from ekn_saml.interfaces import (
    IDevelopmentIdp,
    IFederationMetadata,
    IIdpRegistry,
    IMetrics,
    ISamlServiceProvider,
    ISamlSessionFactory,
    IStateStore,
)
from ekn_saml.metrics import MeteredStore
from ekn_saml.wiring import INTROSPECTION_CATEGORY, SERVICES

from testbed import SP_BASE


def configured(settings, *more_includes) -> Configurator:
    config = Configurator(settings=settings)
    config.include("ekn_saml")
    for include in more_includes:
        config.include(include)
    return config


def plugin_registry(settings):
    return configured(settings).make_wsgi_app().registry


# --- services ---------------------------------------------------------------------------------


def test_the_service_provider_is_a_registered_utility(app_settings):
    sp = plugin_registry(app_settings).getUtility(ISamlServiceProvider)
    assert sp.settings.public_base_url == SP_BASE


def test_the_services_share_one_store(app_settings):
    registry = plugin_registry(app_settings)
    store = registry.getUtility(IStateStore)
    assert registry.getUtility(ISamlServiceProvider).store is store
    assert registry.getUtility(ISamlSessionFactory).store is store


def test_the_idp_registry_is_the_service_providers(app_settings):
    registry = plugin_registry(app_settings)
    assert registry.getUtility(IIdpRegistry) is registry.getUtility(ISamlServiceProvider).registry


@pytest.mark.parametrize("iface", [IFederationMetadata, IDevelopmentIdp], ids=lambda i: i.__name__)
def test_an_optional_service_that_is_not_configured_is_absent(app_settings, iface):
    assert plugin_registry(app_settings).queryUtility(iface) is None


def test_nothing_is_read_at_include_time(app_settings):
    # a missing key file is only a problem once the configuration is committed
    config = configured({**app_settings, "ekn_saml.sp.signing_key": "/nonexistent.key"})
    assert config.registry.queryUtility(ISamlServiceProvider) is None
    with pytest.raises(ConfigurationExecutionError):
        config.commit()


def test_a_setting_changed_after_the_include_takes_effect(app_settings):
    config = configured(app_settings)
    config.add_settings({"ekn_saml.landing_path": "/start"})
    sp = config.make_wsgi_app().registry.getUtility(ISamlServiceProvider)
    assert sp.settings.landing_path == "/start"


def test_a_bad_setting_added_after_the_include_is_reported_at_commit(app_settings):
    config = configured(app_settings)
    config.add_settings({"ekn_saml.no_such_key": "1"})
    with pytest.raises(ConfigurationExecutionError) as caught:
        config.commit()
    assert isinstance(caught.value.evalue, ConfigurationError)
    assert caught.value.evalue.problems == ["unknown setting ekn_saml.no_such_key"]


def test_every_service_is_introspectable(app_settings):
    config = configured(app_settings)
    config.commit()
    titles = {
        entry["introspectable"].title for entry in config.registry.introspector.get_category(INTROSPECTION_CATEGORY)
    }
    assert titles == {iface.__name__ for iface in SERVICES}


def _registers_its_own_store(config):
    config.action(("ekn_saml", "service", "IStateStore"), lambda: None)


def test_a_second_registration_of_a_service_conflicts(app_settings):
    config = configured(app_settings)
    config.include(_registers_its_own_store)
    with pytest.raises(ConfigurationConflictError):
        config.commit()


def test_the_development_idp_setting_cannot_change_after_the_include(app_settings, key_dir):
    # its routes were decided at include time
    config = configured(app_settings)
    config.add_settings(
        {
            "ekn_saml.devidp.enabled": "true",
            "ekn_saml.devidp.key": os.path.join(key_dir, "idp.key"),
            "ekn_saml.devidp.cert": os.path.join(key_dir, "idp.crt"),
        }
    )
    with pytest.raises(ConfigurationExecutionError) as caught:
        config.commit()
    assert any("ekn_saml.devidp.enabled was changed after" in p for p in caught.value.evalue.problems)


def test_the_health_and_metrics_settings_cannot_change_after_the_include(app_settings):
    # their routes were added at include time
    config = configured(app_settings)
    config.add_settings({"ekn_saml.metrics.path": "/ops/metrics"})
    with pytest.raises(ConfigurationExecutionError) as caught:
        config.commit()
    assert any("ekn_saml.health.* or ekn_saml.metrics.* was changed after" in p for p in caught.value.evalue.problems)


def test_with_metrics_on_every_user_of_the_store_shares_the_metered_one(app_settings):
    registry = plugin_registry(app_settings)
    store = registry.getUtility(IStateStore)
    assert isinstance(store, MeteredStore)
    assert registry.getUtility(ISamlServiceProvider).store is store
    assert registry.getUtility(ISamlSessionFactory).store is store
    assert registry.getUtility(IMetrics) is not None


def test_with_metrics_off_the_store_is_the_backend_itself(app_settings):
    registry = plugin_registry({**app_settings, "ekn_saml.metrics.enabled": "false"})
    assert not isinstance(registry.getUtility(IStateStore), MeteredStore)
    assert registry.queryUtility(IMetrics) is None


def test_a_route_prefix_is_refused(app_settings):
    config = Configurator(settings=app_settings)
    with pytest.raises(ConfigurationError):
        config.include("ekn_saml", route_prefix="/auth")


# --- nothing host-wide without the opt-ins ------------------------------------------------


@pytest.mark.parametrize(
    "iface", [ISessionFactory, ISecurityPolicy, IDefaultCSRFOptions, ILocaleNegotiator], ids=lambda i: i.__name__
)
def test_the_include_sets_nothing_host_wide(app_settings, iface):
    assert plugin_registry(app_settings).queryUtility(iface) is None


def _views_for(registry, context) -> list:
    """The views registered for exactly ``context`` (from the introspector, as pviews shows them)."""
    return [
        e["introspectable"]
        for e in registry.introspector.get_category("views")
        if e["introspectable"]["context"] is context
    ]


@pytest.mark.parametrize("context", [HTTPNotFound, HTTPForbidden], ids=lambda c: c.__name__)
def test_the_include_adds_no_not_found_or_forbidden_view(app_settings, context):
    assert _views_for(plugin_registry(app_settings), context) == []


def test_the_plugins_generic_exception_views_answer_on_its_routes_only(app_settings):
    [view] = _views_for(plugin_registry(app_settings), Exception)
    assert view["predicates"][0].text() == "ekn_saml_route = True"


@pytest.mark.parametrize(
    ("part", "iface"),
    [
        ("ekn_saml.host_wide.session_factory", ISessionFactory),
        ("ekn_saml.host_wide.security_policy", ISecurityPolicy),
        ("ekn_saml.host_wide.csrf_default", IDefaultCSRFOptions),
        ("ekn_saml.host_wide.locale_negotiator", ILocaleNegotiator),
    ],
)
def test_each_host_wide_part_is_an_include_of_its_own(app_settings, part, iface):
    assert configured(app_settings, part).make_wsgi_app().registry.queryUtility(iface) is not None


@pytest.mark.parametrize("context", [HTTPNotFound, HTTPForbidden], ids=lambda c: c.__name__)
def test_the_host_wide_error_views_add_the_not_found_and_forbidden_views(app_settings, context):
    registry = configured(app_settings, "ekn_saml.host_wide.error_views").make_wsgi_app().registry
    assert len(_views_for(registry, context)) == 1
