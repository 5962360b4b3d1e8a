# SPDX-License-Identifier: Apache-2.0
"""Caps on the shape of an untrusted XML document, checked before any expensive work on it.

Used by :func:`ekn_saml.xmlsecurity.parse_xml` for every document it
parses; the settings hold the message caps (``ekn_saml.security.max_xml_*``).
Needs lxml only, so the settings can build one without loading python-xmlsec.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from lxml import etree

from .errors import ErrorCode, ResponseValidationError


def _fail(code: ErrorCode, detail: str) -> ResponseValidationError:
    return ResponseValidationError(code, detail)


@dataclass(frozen=True)
class XmlLimits:
    """Caps on the shape of an untrusted document, so that refusing a forged one costs little.

    Canonicalisation sorts each element's attributes and namespaces in
    quadratic time, and every walk of a tree costs per node: a forged
    SAMLResponse of 250 KB with 19,000 attributes on its root held a CPU
    for seconds.  Each cap is checked before any canonicalisation or
    signature work, with its own error code; ``None`` means no cap.

    * ``max_nodes``: elements, attributes, namespace declarations, comments
      and processing instructions.  Counted on the bytes, before parsing,
      from the ``<`` that opens each node and the ``=`` of each attribute:
      an upper bound (a ``<`` in a comment or a ``=`` in a value counts
      too), so that an oversized document costs no parse at all;
    * ``max_attributes``: attributes of one element, namespaced ones included;
    * ``max_depth``: elements nested in each other, the root being 1;
    * ``max_namespaces``: namespace declarations in the whole document.
    """

    max_nodes: int | None = 2000
    max_attributes: int | None = 32
    max_depth: int | None = 32
    max_namespaces: int | None = 64

    @functools.cached_property
    def _too_many_attributes(self) -> etree.XPath | None:
        # one pass inside libxml2; the positional step stops at the first attribute over the cap
        if self.max_attributes is None:
            return None
        return etree.XPath(f"boolean(//*/@*[{self.max_attributes + 1}])")

    @functools.cached_property
    def _too_deep(self) -> etree.XPath | None:
        # /*/*/...: each step keeps only the elements one level deeper, so the whole path is one pass
        if self.max_depth is None:
            return None
        return etree.XPath("boolean(" + "/*" * (self.max_depth + 1) + ")")

    def check_bytes(self, data: bytes) -> int:
        """The node cap, on the bytes before parsing (see the class docstring); return the count of ``=``.

        Every attribute and namespace declaration has its ``=``, so that
        count bounds them all: :meth:`check_tree` needs it.
        """
        equals = data.count(b"=")
        if self.max_nodes is None:
            return equals
        bound = data.count(b"<") - data.count(b"</") + equals
        if bound > self.max_nodes:
            raise _fail(
                ErrorCode.XML_TOO_MANY_NODES, f"the document may hold up to {bound} nodes, cap {self.max_nodes}"
            )
        return equals

    def check_tree(self, root: etree._Element, equals: int) -> None:
        """The attribute and depth caps on a parsed document; ``equals`` is what :meth:`check_bytes` returned."""
        # Fewer '=' than the cap, and no element can exceed it: the walk is not needed.
        too_many_attributes, too_deep = self._too_many_attributes, self._too_deep
        cap = self.max_attributes
        if cap is not None and too_many_attributes is not None and equals > cap and too_many_attributes(root):
            raise _fail(ErrorCode.XML_TOO_MANY_ATTRIBUTES, f"an element has more than {cap} attributes")
        if too_deep is not None and too_deep(root):
            raise _fail(ErrorCode.XML_TOO_DEEP, f"elements are nested more than {self.max_depth} deep")


# What a SAML message (a Response, an AuthnRequest, a logout message) may hold by default.
MESSAGE_LIMITS = XmlLimits()
# Federation metadata is large and its cost grows with its size, which
# ekn_saml.federation.max_bytes caps; what is capped here is what grows faster:
# attributes on one element (canonicalisation sorts them).
METADATA_LIMITS = XmlLimits(max_nodes=None, max_depth=None, max_namespaces=None)
