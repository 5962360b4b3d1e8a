# SPDX-License-Identifier: Apache-2.0
"""`make run` as a newcomer gets it: development.ini's own settings give a demo whose every login method works.

The settings are development.ini's ``[app:main]``, read as PasteDeploy reads
them, with only the key directory and the store moved into a temporary
directory (the keys made as ``make run`` makes them).  Nothing else is
changed, so a setting in the file that disables a method (its SP profile's
entity categories, say) fails here rather than on the first click.
"""

from __future__ import annotations

import configparser
import pathlib

from webtest import TestApp

from ekn_saml.demo import main
from ekn_saml.interfaces import ISamlServiceProvider
from ekn_saml.keygen import make_dev_keys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def development_app(tmp_path) -> TestApp:
    certs = tmp_path / "certs"
    make_dev_keys(str(certs))
    ini = configparser.ConfigParser(defaults={"here": str(ROOT)})
    ini.read(ROOT / "development.ini", encoding="utf-8")
    settings = {
        key: value.replace(str(ROOT / "certs"), str(certs)) for key, value in ini["app:main"].items() if key != "here"
    }
    settings["ekn_saml.store.url"] = f"sqlite:///{tmp_path / 'state.sqlite'}"
    return TestApp(main({}, **settings), extra_environ={"HTTP_HOST": "localhost:6543"})


def test_every_method_of_development_ini_is_available(tmp_path):
    app = development_app(tmp_path)
    sp = app.app.registry.getUtility(ISamlServiceProvider)
    methods = [m.name for m in sp.settings.methods]
    assert methods == ["mobilt_bankid", "bankid", "expisoft", "eidas"]
    assert sp.method_problems() == dict.fromkeys(methods)


def test_every_method_of_development_ini_starts_a_login(tmp_path):
    app = development_app(tmp_path)
    for method in ("mobilt_bankid", "bankid", "expisoft", "eidas"):
        started = app.get(f"/login/{method}", status="*")
        assert started.status_int in (200, 302), (method, started.status)
