# SPDX-License-Identifier: Apache-2.0
import re
from pathlib import Path

from setuptools import find_namespace_packages, setup

HERE = Path(__file__).parent
# the version is written once, in ekn_saml/_version.py (read, not imported: nothing is installed yet)
VERSION = re.search(
    r'^__version__ = "([^"]+)"$', (HERE / "ekn_saml" / "_version.py").read_text(encoding="utf-8"), re.M
).group(1)

setup(
    name="ekn_saml",
    version=VERSION,
    description="A strict SAML 2.0 Service Provider for Pyramid, for Swedish e-legitimations (BankID, Expisoft)",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.11",
    # namespace packages: the data folders (templates, locale, schemas) are packages too
    packages=find_namespace_packages(include=["ekn_saml", "ekn_saml.*"]),
    include_package_data=True,
    package_data={
        "ekn_saml": [
            "templates/*.jinja2",
            "templates/*/*.jinja2",
            "static/*",
            "static/*/*",
            "locale/*/LC_MESSAGES/*",
            "locale/*.pot",
            "metadata/schemas/*.xsd",
            "schemas/*.xsd",
            "schemas/*.md",
        ]
    },
    zip_safe=False,
    install_requires=[
        "pyramid>=2.0,<3",
        "pyramid_jinja2>=2.10",
        "pysaml2>=7.5,<8",
        # exactly what ekn_saml.xmlsec_check.KNOWN_GOOD says (a test keeps them equal): both
        # wheels must bundle the same libxml2, which the startup check enforces
        "lxml>=6.1,<6.2",
        "xmlsec==1.3.17",
        "cryptography>=42",
        # the IANA time zones for zoneinfo (pages show Swedish time), where the system has no tz database
        "tzdata",
    ],
    extras_require={
        # the Redis store (ekn_saml.store.url = redis://...)
        "redis": ["redis>=5"],
        # the demo app served by `pserve development.ini`
        "demo": ["waitress>=3"],
        # /metrics for Prometheus (ekn_saml.metrics.*): prometheus_client is the reference client,
        # and its multi-process mode is what gunicorn's pre-forked workers need (README, "Health checks and metrics")
        "metrics": ["prometheus_client>=0.20"],
        # a production server as production.ini.example runs it: gunicorn's pre-forked
        # workers sharing the Redis store, and their metrics (README, "Running in production")
        "production": ["redis>=5", "gunicorn>=27", "prometheus_client>=0.20"],
        "test": [
            "redis>=5",
            "waitress>=3",
            # the multi-worker and graceful-shutdown tests serve the app as production does
            "gunicorn>=27",
            # the /metrics tests (the metrics extra)
            "prometheus_client>=0.20",
            "webtest>=3",
            "pytest>=8",
            "pytest-playwright>=0.5",
            # axe-core (bundled in the wheel, so it works offline) for the browser tests'
            # accessibility checks: the engine the audit used, not rules of our own
            "axe-playwright-python>=0.1.8",
            "hypothesis>=6",
            "Babel>=2.14",
            # make test's lint step: rules and format, types (a ratchet), import layers
            "ruff>=0.15",
            "mypy>=1.10",
            "import-linter>=2.0",
        ],
    },
    entry_points={
        "paste.app_factory": ["main = ekn_saml.demo:main"],
        "console_scripts": ["ekn-saml = ekn_saml.cli:main"],
    },
)
