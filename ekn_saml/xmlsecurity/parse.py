# SPDX-License-Identifier: Apache-2.0
"""The one safe parse of untrusted XML, and the strict lookups every later check reads with.

No DTD, no entities, no network, caps on the document's shape
(:mod:`ekn_saml.xml_limits`) before any work, no relative namespace URIs and
no duplicate or namespaced IDs.  Nothing here verifies a signature.
"""

from __future__ import annotations

import itertools
import re

from lxml import etree

from ..errors import ErrorCode, ResponseValidationError
from ..xml_limits import MESSAGE_LIMITS, XmlLimits

NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "xenc": "http://www.w3.org/2001/04/xmlenc#",
    "xenc11": "http://www.w3.org/2009/xmlenc11#",
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
    "mdui": "urn:oasis:names:tc:SAML:metadata:ui",
    "mdattr": "urn:oasis:names:tc:SAML:metadata:attribute",
    "shibmd": "urn:mace:shibboleth:metadata:1.0",
    "alg": "urn:oasis:names:tc:SAML:metadata:algsupport",
    "psc": "http://id.swedenconnect.se/authn/1.0/principal-selection/ns",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "xs": "http://www.w3.org/2001/XMLSchema",
}
DS = "{{{}}}".format(NS["ds"])
XENC = "{{{}}}".format(NS["xenc"])

# One parser for everything: no DTD, no entities, no network (checklist 12).
# Comments are kept so that a value split by a comment is *seen* and rejected.
_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_blank_text=False,
)


def parse_xml(
    data: bytes, *, whole_document_signed: bool = False, limits: XmlLimits = MESSAGE_LIMITS
) -> etree._Element:
    """Parse untrusted XML with the one safe parser.

    Rejects a document over one of the ``limits`` (:class:`XmlLimits`: the
    node cap before parsing, the others right after), a DOCTYPE (so no
    entity can be declared or expanded, and libxml2 refuses a reference to
    an undeclared one: no entity node can reach the tree), relative
    namespace URIs (void canonicalisation), duplicate ``ID`` values and
    namespaced ``ID`` attributes (ID pollution).
    It does **not** check signatures or SAML semantics.

    ``whole_document_signed=True`` is for a caller that refuses the
    document unless an enveloped exc-c14n signature over its *root* verifies
    without resolving any ID (federation metadata,
    :func:`ekn_saml.metadata.root_signature.verify_root_signature`).  The
    namespace and ID checks are then left out, and a 20 MB aggregate is not
    walked twice for them:

    * that signature's digest canonicalises every element but the Signature
      (which it checks itself), and libxml2's canonicalisation fails on a
      relative namespace declaration, used or not (probed at startup by
      :func:`ekn_saml.xmlsec_check.canonicalisation_problems`);
    * nothing is looked up by ID, so duplicate or namespaced IDs cannot
      move the signature.

    The caller must parse again, with every check, any part it goes on to
    use (FederationIdps parses each IdP entity it builds).
    """
    equals = limits.check_bytes(data)
    if _declares_a_dtd(data):
        raise ResponseValidationError(ErrorCode.XML_DTD_FORBIDDEN, "a DOCTYPE or entity declaration is not allowed")
    try:
        root = etree.fromstring(data, _PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise ResponseValidationError(ErrorCode.XML_MALFORMED, f"not well-formed XML ({_parse_error(exc)})") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype:
        raise ResponseValidationError(ErrorCode.XML_DTD_FORBIDDEN, "a DOCTYPE is not allowed")
    limits.check_tree(root, equals)
    if whole_document_signed:
        return root
    check_namespaces(root, max_declarations=limits.max_namespaces)
    check_ids(root)
    return root


def _parse_error(exc: Exception) -> str:
    """What went wrong, without libxml2's message text (it quotes the document: values, even identity numbers)."""
    error_log = getattr(exc, "error_log", None)
    last = error_log.last_error if error_log is not None else None
    if not last:
        return exc.__class__.__name__
    return f"{last.type_name} at line {last.line}, column {last.column}"


# compiled once: the ID check runs twice on every response
_ID_ATTRIBUTES = etree.XPath("descendant-or-self::*/@*[local-name()='ID' or local-name()='Id']")

# A DOCTYPE (and with it any entity declaration) can only come in the prolog:
# after an optional BOM, whitespace, the XML declaration, processing
# instructions and comments.  Atomic groups: no backtracking into a later "?>".
_PROLOG_DTD = re.compile(rb"\A(?:\xef\xbb\xbf)?(?>[ \t\r\n]+|<\?.*?\?>|<!--.*?-->)*+<!DOCTYPE", re.S)
_UTF16 = {b"\xff\xfe": "utf-16", b"\xfe\xff": "utf-16", b"<\x00": "utf-16-le", b"\x00<": "utf-16-be"}


def _declares_a_dtd(data: bytes) -> bool:
    """Whether ``data`` has a DOCTYPE, found *before* libxml2 reads it (no DTD is ever parsed).

    Reads the prolog only, not the whole document (a 26 MB aggregate has no
    reason to be scanned twice).  UTF-16 is decoded first; anything libxml2
    reads as another encoding is left to the DOCTYPE check after the parse.
    A DOCTYPE anywhere else, or an entity declaration outside one, is not
    well-formed: the parser refuses it.
    """
    encoding = _UTF16.get(data[:2])
    if encoding is not None:
        try:
            data = data.decode(encoding).encode("utf-8")
        except UnicodeDecodeError:
            return False  # the parser says what is wrong with it
    return _PROLOG_DTD.match(data) is not None


def check_subtree(root: etree._Element) -> None:
    """Raise as :func:`parse_xml` would for entity references or relative namespaces in ``root``.

    For a subtree :func:`parse_xml` did not parse (a decrypted one).  Does
    **not** check IDs (:func:`check_ids` does, on the whole document).
    """
    # Entity references and namespace URIs of a subtree parse_xml did not
    # parse (a decrypted one): each is one pass inside libxml2 (tag filter,
    # start-ns walk), not a Python loop over every element.
    for _entity in root.iter(etree.Entity):
        raise ResponseValidationError(ErrorCode.XML_DTD_FORBIDDEN, "entity references are not allowed")
    check_namespaces(root)


def check_namespaces(root: etree._Element, *, max_declarations: int | None = None) -> None:
    """Raise XML_NAMESPACE_INVALID for a relative namespace URI declared in or above ``root``.

    Declarations inherited from above a subtree count as well as those
    inside it.  With ``max_declarations``, more declarations than that in
    the subtree raise XML_TOO_MANY_NAMESPACES.  Does **not** check IDs or
    entities.
    """
    inherited = [("", uri) for uri in root.nsmap.values()]
    declared = (ns for _event, ns in etree.iterwalk(root, events=("start-ns",)))
    for count, (_prefix, uri) in enumerate(itertools.chain(inherited, declared), 1 - len(inherited)):
        if ":" not in uri:
            raise ResponseValidationError(ErrorCode.XML_NAMESPACE_INVALID, f"relative namespace URI {uri!r}")
        if max_declarations is not None and count > max_declarations:
            raise ResponseValidationError(
                ErrorCode.XML_TOO_MANY_NAMESPACES, f"more than {max_declarations} namespace declarations"
            )


def check_ids(root: etree._Element) -> None:
    """Raise XML_DUPLICATE_ID for a namespaced ID attribute, or an ID value twice, in ``root``."""
    seen_ids: set[str] = set()
    for value in _ID_ATTRIBUTES(root):
        if value.attrname not in ("ID", "Id"):
            raise ResponseValidationError(
                ErrorCode.XML_DUPLICATE_ID, f"namespaced ID attribute {value.attrname} (ID pollution)"
            )
        if value in seen_ids:
            raise ResponseValidationError(ErrorCode.XML_DUPLICATE_ID, f"ID {str(value)!r} appears twice")
        seen_ids.add(str(value))


def children(parent: etree._Element, tag: str) -> list[etree._Element]:
    """The direct children of ``parent`` named ``tag`` (``{namespace}name``), in document order.

    What ``parent.findall(tag)`` returns, by a plain C iteration instead of
    lxml's ElementPath.  The ACS makes some 40 such lookups per response;
    in the interleaved bench, where pysaml2's runs leave every cache cold,
    this lowered (b)/(c) by about 0.035 (paired runs, BENCHMARKS.md).
    """
    return list(parent.iterchildren(tag))


def children_at(parent: etree._Element, *tags: str) -> list[etree._Element]:
    """The elements a path of child steps reaches: ``children_at(p, a, b)`` is ``p.findall(a + "/" + b)``."""
    level = [parent]
    for tag in tags:
        level = [found for element in level for found in element.iterchildren(tag)]
    return level


def child(parent: etree._Element, tag: str) -> etree._Element | None:
    """The first direct child of ``parent`` named ``tag``, or None: ``parent.find(tag)``, see :func:`children`."""
    return next(parent.iterchildren(tag), None)


def strict_text(el: etree._Element) -> str:
    """The element's whole text; reject child nodes (a comment or element inside a value).

    Reading only ``.text`` of ``1970<!---->01011234`` would give a truncated
    value (CVE-2017-11427), so any child, comment included, is refused.
    """
    if len(el):
        raise ResponseValidationError(
            ErrorCode.ATTRIBUTE_VALUE_MALFORMED, f"{etree.QName(el).localname} has child nodes"
        )
    return el.text or ""
