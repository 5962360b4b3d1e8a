# SPDX-License-Identifier: Apache-2.0
"""production.ini.example is a real starting point: the plugin's settings parser accepts it as it is.

Its files (keys, certificates, the backing file) are under /etc/ekn and
/var/lib/ekn, which a test machine does not have: each is replaced by a
file of the same name in a test directory, made with the test keys, and
nothing else is changed.  The ``[server:main]`` section is what
tests/multinode/test_gunicorn_workers.py serves the app with.
"""

from __future__ import annotations

import configparser
import os
import pathlib
import shutil
from urllib.parse import urlsplit

import pytest

from ekn_saml.settings import parse_settings
from ekn_saml.testing import make_test_keys

EXAMPLE = pathlib.Path(__file__).parents[2] / "production.ini.example"
# where the example keeps files that exist on a production host, not in the repository
HOST_DIRS = ("/etc/ekn/", "/var/lib/ekn/")


def _app_settings() -> dict[str, str]:
    # the same interpolation PasteDeploy gives [app:main] (here, __file__)
    parser = configparser.ConfigParser(defaults={"here": str(EXAMPLE.parent), "__file__": str(EXAMPLE)})
    parser.read(EXAMPLE, encoding="utf-8")
    return {k: v for k, v in parser.items("app:main") if k not in ("here", "__file__")}


def _host_paths(settings: dict[str, str]) -> set[str]:
    return {word for value in settings.values() for word in value.split() if word.startswith(HOST_DIRS)}


@pytest.fixture(scope="module")
def parsed(tmp_path_factory):
    """The example's settings, each host path replaced by a test file of the same name."""
    directory = pathlib.Path(make_test_keys(str(tmp_path_factory.mktemp("production-keys")), "production example"))
    settings = _app_settings()
    replaced = {}
    for path in _host_paths(settings):
        local = directory / os.path.basename(path)
        if not local.exists() and path.endswith(".crt"):
            shutil.copy(directory / "idp.crt", local)  # a certificate the test keys do not have (the federation's)
        replaced[path] = str(local)
    for key, value in settings.items():
        if _host_paths({key: value}):
            settings[key] = " ".join(replaced.get(word, word) for word in value.split())
    return parse_settings(settings)  # ConfigurationError, listing every problem, if it does not parse


def test_the_example_parses_without_a_configuration_problem(parsed):
    # what it is an example of: https behind the proxy, federation metadata, the shared Redis store
    assert parsed.public_base_url.startswith("https://")
    assert parsed.federation.enabled
    assert urlsplit(parsed.store_url).scheme == "redis"


def test_the_development_idp_is_off(parsed):
    assert not parsed.devidp.enabled
    assert not parsed.is_development  # nor any other development mode (ephemeral server keys, http)


def test_its_keys_and_metadata_files_live_outside_the_repository():
    settings = _app_settings()
    for key in (
        "ekn_saml.sp.signing_key",
        "ekn_saml.sp.encryption_keys",
        "ekn_saml.server_keys",
        "ekn_saml.federation.signing_cert",
        "ekn_saml.federation.backing_file",
    ):
        assert settings[key].startswith(HOST_DIRS), key


def test_the_example_serves_health_checks_and_metrics(parsed):
    assert parsed.operations.health_enabled and parsed.operations.metrics_enabled


def test_the_gunicorn_master_does_the_metrics_bookkeeping_of_exited_workers():
    from gunicorn.config import Config

    from ekn_saml.metrics import child_exit

    parser = configparser.ConfigParser(interpolation=None)
    parser.read(EXAMPLE, encoding="utf-8")
    config = Config()
    config.set("child_exit", parser.get("server:main", "child_exit"))  # as gunicorn's paste runner does
    assert config.child_exit is child_exit
