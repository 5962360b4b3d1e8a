# SPDX-License-Identifier: Apache-2.0
from setuptools import find_namespace_packages, setup

setup(
    name="ekn_saml",
    version="0.1.0",
    description="A strict SAML 2.0 Service Provider for Pyramid, for Swedish e-legitimations (BankID, Expisoft)",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.11",
    # namespace packages: the data folders (templates, locale, schemas) are packages too
    packages=find_namespace_packages(include=["ekn_saml", "ekn_saml.*"]),
    include_package_data=True,
    package_data={"ekn_saml": ["templates/*.jinja2", "static/*", "static/*/*", "locale/*/LC_MESSAGES/*", "locale/*.pot", "metadata/schemas/*.xsd"]},
    zip_safe=False,
    install_requires=[
        "pyramid>=2.0,<3",
        "pyramid_jinja2>=2.10",
        "pysaml2>=7.5,<8",
        "lxml>=5",
        "xmlsec>=1.3.14",
        "cryptography>=42",
        "redis>=5",
        "waitress>=3",
    ],
    extras_require={
        "test": [
            "webtest>=3",
            "pytest>=8",
            "pytest-playwright>=0.5",
            "hypothesis>=6",
            "Babel>=2.14",
        ],
    },
    entry_points={
        "paste.app_factory": ["main = ekn_saml.demo:main"],
        "console_scripts": ["ekn-saml = ekn_saml.cli:main"],
    },
)
