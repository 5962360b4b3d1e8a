# SPDX-License-Identifier: Apache-2.0
"""The SAML 2.0 XML schemas, compiled once from the copies pysaml2 ships, and the check against them.

Its own module, below :mod:`ekn_saml.xmlsecurity`: the startup check
(:mod:`ekn_saml.xmlsec_check`) compiles the schemas, and the signature
checks validate against them, so both depend on this and not on each other.
"""

from __future__ import annotations

from lxml import etree

from .errors import ErrorCode, ResponseValidationError

# The XSDs pysaml2 ships (saml2/data/schemas), by namespace: the same set its
# schema check of signed elements loads (saml2.xml.schema), here compiled once
# by libxml2 instead of being interpreted by the pure-Python xmlschema package.
_SCHEMA_FILES = {
    "urn:oasis:names:tc:SAML:2.0:protocol": "saml-schema-protocol-2.0.xsd",
    "urn:oasis:names:tc:SAML:2.0:assertion": "saml-schema-assertion-2.0.xsd",
    "http://www.w3.org/2000/09/xmldsig#": "xmldsig-core-schema.xsd",
    "http://www.w3.org/2001/04/xmlenc#": "xenc-schema.xsd",
    "http://www.w3.org/2009/xmlenc11#": "xenc-schema-11.xsd",
    "http://www.w3.org/XML/1998/namespace": "xml.xsd",
    "http://eidas.europa.eu/saml-extensions": "eidas-schema-saml-extensions.xsd",
    "http://eidas.europa.eu/attributes/naturalperson": "eidas-schema-attribute-naturalperson.xsd",
    "http://eidas.europa.eu/attributes/legalperson": "eidas-schema-attribute-legalperson.xsd",
}
# schemaLocation URLs the XSDs import by; each is served from the local copy
_SCHEMA_URLS = {
    "http://www.w3.org/TR/2002/REC-xmldsig-core-20020212/xmldsig-core-schema.xsd": "xmldsig-core-schema.xsd",
    "http://www.w3.org/TR/2002/REC-xmlenc-core-20021210/xenc-schema.xsd": "xenc-schema.xsd",
    "http://www.w3.org/2001/xml.xsd": "xml.xsd",
}


def schema_directory() -> str:
    """Where pysaml2's XSDs are, found without importing pysaml2."""
    import importlib.util
    import os

    spec = importlib.util.find_spec("saml2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the pysaml2 package (saml2) is not installed")
    return os.path.join(next(iter(spec.submodule_search_locations)), "data", "schemas")


class _LocalSchemas(etree.Resolver):
    """Every schema import is answered from the local directory, or fails: nothing is fetched."""

    def __init__(self, directory: str) -> None:
        super().__init__()
        self.directory = directory

    def resolve(self, url, pubid, context):
        import os

        name = _SCHEMA_URLS.get(url) or os.path.basename(url or "")
        path = os.path.join(self.directory, name)
        if name in _SCHEMA_FILES.values() and os.path.isfile(path):
            return self.resolve_filename(path, context)
        raise OSError(f"schema import {url!r} is not one of the local SAML schemas")


_SCHEMA: etree.XMLSchema | None = None


def saml_schema() -> etree.XMLSchema:
    """The SAML 2.0 protocol and assertion schemas, compiled once per process.

    Raises OSError or ``etree.XMLSchemaParseError`` if the XSDs are missing;
    :mod:`ekn_saml.xmlsec_check` calls this at startup so that happens there.
    """
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = _compile(_LocalSchemas(schema_directory()), _SCHEMA_FILES, "schema-driver")
    return _SCHEMA


def _compile(resolver: _LocalSchemas, files: dict[str, str], name: str) -> etree.XMLSchema:
    """One schema that imports every ``files`` entry (namespace: file name), each found by ``resolver``.

    The driver document lives (by its base URL) in the resolver's directory,
    so relative imports resolve there; nothing is fetched from the network.
    """
    import os

    # Trusted local files: the XML Signature XSD declares entities in its DTD.
    parser = etree.XMLParser(no_network=True, resolve_entities=True, load_dtd=True)
    parser.resolvers.add(resolver)
    imports = "".join(
        f'<xs:import namespace="{namespace}" schemaLocation="{file}"/>' for namespace, file in files.items()
    )
    driver = (
        f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:ekn-saml:{name}">'
        f"{imports}</xs:schema>"
    )
    base_url = os.path.join(resolver.directory, f"ekn-saml-{name}.xsd")
    return etree.XMLSchema(etree.fromstring(driver.encode(), parser, base_url=base_url).getroottree())


# The Sweden Connect AuthnRequest extensions (ekn_saml/schemas, README there), by namespace
_EXTENSION_FILES = {
    "http://id.swedenconnect.se/authn/1.0/principal-selection/ns": "PrincipalSelection-1.0.xsd",
    "http://id.swedenconnect.se/authn/1.0/user-message/ns": "UserMessage-1.0.xsd",
}
_REQUEST_SCHEMA: etree.XMLSchema | None = None


def extension_schema_directory() -> str:
    """Where the package keeps the psc and umsg schemas (``ekn_saml/schemas``)."""
    import os

    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemas")


class _RequestSchemas(_LocalSchemas):
    """The SAML schemas from pysaml2's directory, the extension schemas from the package's: nothing fetched."""

    def resolve(self, url, pubid, context):
        import os

        name = os.path.basename(url or "")
        if name in _EXTENSION_FILES.values():
            return self.resolve_filename(os.path.join(extension_schema_directory(), name), context)
        return super().resolve(url, pubid, context)


def authn_request_schema() -> etree.XMLSchema:
    """The SAML schemas plus PrincipalSelection 1.0 and UserMessage 1.0, compiled once per process.

    ``samlp:Extensions`` admits any element of another namespace with lax
    processing, so with these two schemas loaded a ``psc:`` or ``umsg:``
    element in an AuthnRequest is validated strictly against the published
    definition.  For the development IdP and the tests; the SP's response
    checks use :func:`saml_schema`.  Raises as :func:`saml_schema` does.
    """
    global _REQUEST_SCHEMA
    if _REQUEST_SCHEMA is None:
        _REQUEST_SCHEMA = _compile(
            _RequestSchemas(schema_directory()), {**_SCHEMA_FILES, **_EXTENSION_FILES}, "request-driver"
        )
    return _REQUEST_SCHEMA


def request_schema_problem(request: etree._Element) -> str | None:
    """``None`` if the AuthnRequest passes :func:`authn_request_schema`, else what breaks it (no values quoted)."""
    schema = authn_request_schema()
    if schema.validate(request):
        return None
    last = schema.error_log.last_error
    # libxml2's message may quote values (a personal identity number in a MatchValue): left out
    return f"{last.type_name} at {last.path}" if last is not None else "not valid"


def check_schema(element: etree._Element) -> None:
    """Validate ``element`` (as if it were the document root) against the SAML schemas.

    The schema check pysaml2 makes of every signed element before trusting
    its signature (its fix of CVE-2021-21238), at about 1/100 of the cost.
    Only the structure is checked: values (times, URIs, IDs) are checked by
    the callers' own rules.
    """
    schema = saml_schema()
    if not schema.validate(element):
        # The log belongs to the shared schema object: under concurrency the
        # message may come from another thread's failure; the verdict cannot.
        # libxml2's message text quotes values (a personal identity number
        # once reached a warning this way): the kind of error, where, no text.
        last = schema.error_log.last_error
        detail = f"{last.type_name} at {last.path} (line {last.line})" if last is not None else "not valid"
        raise ResponseValidationError(
            ErrorCode.SCHEMA_INVALID, f"{etree.QName(element).localname} breaks the SAML schema: {detail}"
        )
