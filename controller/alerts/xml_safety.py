"""Hardened XML parsing for documents from outside (CAP alerts, feeds).

lxml/libxml2 expands internal entities and may load external ones unless told not to, so
every parse here turns entity resolution, DTD loading and network access off, refuses
libxml2's "huge tree" mode, caps the size before a byte is parsed and the element depth
while parsing. A document with a DOCTYPE is refused outright: CAP and Atom never need one,
and refusing it is the one answer to entity tricks (billion laughs, external entities)
that does not depend on which libxml2 version is installed.
"""

from __future__ import annotations

import io

from lxml import etree

MAX_BYTES = 1_000_000
"""Largest document accepted; real CAP alerts are a few kilobytes."""
MAX_DEPTH = 32
"""Deepest element nesting accepted; CAP needs 5, a signature adds about 4."""


class UnsafeXml(ValueError):
    """The document was refused before or while parsing; the message says why."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def _parser_options() -> dict:
    return {"resolve_entities": False, "no_network": True, "huge_tree": False,
            "load_dtd": False, "dtd_validation": False, "remove_comments": True,
            "remove_pis": True}


def parse(data: bytes, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH):
    """Parse untrusted XML bytes into a root element, or raise UnsafeXml naming the problem."""
    if not isinstance(data, bytes | bytearray):
        raise UnsafeXml("not_bytes", "the document must be bytes")
    if len(data) > max_bytes:
        raise UnsafeXml("too_large", f"the document has {len(data)} bytes; the limit is {max_bytes}")
    if not data.strip():
        raise UnsafeXml("empty", "the document is empty")
    if b"<!DOCTYPE" in bytes(data[:4096]).upper():
        # Checked again after parsing, for encodings where the bytes do not show it.
        raise UnsafeXml("doctype", "a DOCTYPE (DTD, entities) is not allowed")
    depth = 0
    try:
        events = etree.iterparse(io.BytesIO(bytes(data)), events=("start", "end"),
                                 **_parser_options())
        for event, _elem in events:
            if event == "start":
                depth += 1
                if depth > max_depth:
                    raise UnsafeXml("too_deep", f"elements are nested deeper than {max_depth}")
            else:
                depth -= 1
        root = events.root
    except etree.XMLSyntaxError as exc:
        raise UnsafeXml("malformed", f"malformed XML: {exc.msg}") from None
    if root is None:
        raise UnsafeXml("malformed", "malformed XML: no root element")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise UnsafeXml("doctype", "a DOCTYPE (DTD, entities) is not allowed")
    return root
