# SPDX-License-Identifier: Apache-2.0
"""ekn_saml.interfaces: every registered service provides its interface, as zope.interface verifies it."""

from __future__ import annotations

import pytest
from zope.interface.verify import verifyClass, verifyObject

from ekn_saml.demo import main
from ekn_saml.headers import FormActionOrigins
from ekn_saml.interfaces import (
    IFederationMetadata,
    IFormActionOrigins,
    IIdpRegistry,
    ISamlServiceProvider,
    ISamlSessionFactory,
    ISpMetadataDocuments,
    IStateStore,
    IStateStoreFactory,
)
from ekn_saml.metadata.federation import FederationMetadata
from ekn_saml.metadata.idp import IdpRegistry
from ekn_saml.metadata.sp import SpMetadataDocuments
from ekn_saml.service import ServiceProvider
from ekn_saml.session import StoreSessionFactory
from ekn_saml.storage.memory import MemoryStateStore
from ekn_saml.storage.redis import RedisStateStore
from ekn_saml.storage.sqlite import SQLiteStateStore
from ekn_saml.testing import development_settings
from ekn_saml.wiring import SERVICES

IMPLEMENTATIONS = [
    (ISamlServiceProvider, ServiceProvider),
    (IStateStore, MemoryStateStore),
    (IStateStore, SQLiteStateStore),
    (IStateStore, RedisStateStore),
    (ISamlSessionFactory, StoreSessionFactory),
    (IIdpRegistry, IdpRegistry),
    (IFederationMetadata, FederationMetadata),
    (ISpMetadataDocuments, SpMetadataDocuments),
    (IFormActionOrigins, FormActionOrigins),
]


@pytest.mark.parametrize(("iface", "cls"), IMPLEMENTATIONS, ids=lambda x: x.__name__)
def test_the_class_implements_its_interface(iface, cls):
    assert verifyClass(iface, cls)


@pytest.mark.parametrize("cls", [MemoryStateStore, SQLiteStateStore, RedisStateStore], ids=lambda c: c.__name__)
def test_each_store_class_is_how_ekn_saml_builds_a_store(cls):
    """ekn_saml.store.backend names a class with this same from_url (a host's own, too)."""
    assert IStateStoreFactory.providedBy(cls) and verifyObject(IStateStoreFactory, cls)


@pytest.fixture
def dev_registry(key_dir, tmp_path):
    # the demo's settings: every service but federation metadata is registered
    settings = development_settings(
        sp_base="https://sp.example.test", keys_dir=key_dir, store_url=f"sqlite:///{tmp_path}/state.sqlite"
    )
    return main({}, **settings).registry


@pytest.mark.parametrize("iface", [i for i in SERVICES if i is not IFederationMetadata], ids=lambda i: i.__name__)
def test_the_registered_service_provides_its_interface(dev_registry, iface):
    assert verifyObject(iface, dev_registry.getUtility(iface))
