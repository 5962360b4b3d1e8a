# SPDX-License-Identifier: Apache-2.0
"""Validation of SAML metadata against the OASIS schemas, compiled once per process.

The OASIS and W3C schema files come from the directory pysaml2 installs
(:func:`ekn_saml.xml_schema.schema_directory`, found without importing
pysaml2), the same files the protocol schema check uses; the two files we
wrote (the driver and the query-requester extension) are in
``ekn_saml/metadata/schemas``.  The originals name each other by W3C URLs;
the resolver maps those to local files and refuses anything else, so
compiling never fetches anything.

Elements of namespaces we have no schema for (``shibmd``, ``psc``,
``mdorgext``, ...) sit in ``md:Extensions``, which the SAML schema validates
*laxly*: they are skipped, not rejected.
"""

from __future__ import annotations

import functools
import os

from lxml import etree

from ..errors import MetadataError
from ..xml_schema import schema_directory

OWN_SCHEMAS = os.path.join(os.path.dirname(__file__), "schemas")
_DRIVER = "ekn-metadata.xsd"
_OWN = ("ekn-metadata.xsd", "ekn-metadata-ext-query.xsd")
# the originals, by file name, and the remote schemaLocations they use for each other
_ORIGINALS = (
    "saml-schema-metadata-2.0.xsd",
    "saml-schema-assertion-2.0.xsd",
    "sstc-saml-metadata-ui-v1.0.xsd",
    "sstc-metadata-attr.xsd",
    "sstc-saml-metadata-algsupport-v1.0.xsd",
    "xmldsig-core-schema.xsd",
    "xenc-schema.xsd",
    "xml.xsd",
)
_REMOTE = {
    "http://www.w3.org/TR/2002/REC-xmldsig-core-20020212/xmldsig-core-schema.xsd": "xmldsig-core-schema.xsd",
    "http://www.w3.org/TR/2002/REC-xmlenc-core-20021210/xenc-schema.xsd": "xenc-schema.xsd",
    "http://www.w3.org/2001/xml.xsd": "xml.xsd",
}
_DTD = "http://www.w3.org/2001/XMLSchema.dtd"  # named by the W3C files' DOCTYPE; not needed to validate


class _LocalSchemas(etree.Resolver):
    """Answer every schema import from a local file, or fail: nothing is fetched."""

    def __init__(self, originals: str) -> None:
        super().__init__()
        self.originals = originals

    def resolve(self, url, public_id, context):
        if url == _DTD:
            return self.resolve_string("", context)
        name = _REMOTE.get(url) or os.path.basename(url or "")
        if name in _OWN:
            return self.resolve_filename(os.path.join(OWN_SCHEMAS, name), context)
        if name in _ORIGINALS:
            return self.resolve_filename(os.path.join(self.originals, name), context)
        raise OSError(f"schema import {url!r} is not one of the local SAML metadata schemas")


@functools.cache
def metadata_schema() -> etree.XMLSchema:
    """The compiled schema set (SAML metadata, mdui, mdattr, algsupport, query); built once.

    Raises OSError or ``etree.XMLSchemaParseError`` if a schema file is missing.
    """
    # Trusted local files: the XML Signature XSD declares entities in its internal DTD subset.
    parser = etree.XMLParser(no_network=True, load_dtd=False, resolve_entities=True)
    parser.resolvers.add(_LocalSchemas(schema_directory()))
    return etree.XMLSchema(etree.parse(os.path.join(OWN_SCHEMAS, _DRIVER), parser))


def schema_errors(root: etree._Element, *, limit: int = 5) -> list[str]:
    """Schema violations of ``root`` (at most ``limit``), as ``line N: message``; empty if valid."""
    schema = metadata_schema()
    if schema.validate(root):
        return []
    # The log belongs to the shared schema object: under concurrency a message may
    # come from another thread's validation; the verdict above cannot.
    return [f"line {e.line}: {e.message}" for e in list(schema.error_log)[:limit]] or ["not valid"]


def validate_metadata(root: etree._Element, *, source: str) -> None:
    """Raise :class:`MetadataError` (METADATA_INVALID) if ``root`` breaks the metadata schema.

    Checks structure and types only: **not** signatures, validity dates or
    whether keys are usable.
    """
    errors = schema_errors(root, limit=3)
    if errors:
        raise MetadataError(f"{source}: not valid SAML metadata: " + "; ".join(errors))
