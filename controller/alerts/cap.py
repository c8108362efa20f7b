"""CAP 1.2 documents: validated against the OASIS schema shipped here, then read into plain data.

Validation is all or nothing: a document that fails the schema is refused with the schema's
own message (line and element), never half-read. The fields kept are those the commune
acts on; the raw document's SHA-256 is kept so a log entry can be matched to its source.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from importlib import resources

from lxml import etree

from controller.alerts import xml_safety

NS = "urn:oasis:names:tc:emergency:cap:1.2"
_Q = f"{{{NS}}}"
VIETNAMESE = ("vi", "vi-vn")


class CapRefused(ValueError):
    """A CAP document that cannot be used; `code` for machines, message for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Area:
    """One <area>: description, polygons and circles (lat, lon) and geocodes."""

    desc: str
    polygons: tuple[tuple[tuple[float, float], ...], ...] = ()
    circles: tuple[tuple[float, float, float], ...] = ()
    """(lat, lon, radius in km)."""
    geocodes: tuple[tuple[str, str], ...] = ()
    """(valueName, value)."""


@dataclass(frozen=True)
class Info:
    """One <info> block, in one language."""

    language: str
    event: str
    urgency: str
    severity: str
    certainty: str
    expires: datetime | None = None
    headline: str = ""
    description: str = ""
    instruction: str = ""
    sender_name: str = ""
    parameters: dict = field(default_factory=dict)
    areas: tuple[Area, ...] = ()

    @property
    def is_vietnamese(self) -> bool:
        """Whether this block is in Vietnamese (vi or vi-VN)."""
        return self.language.lower() in VIETNAMESE


@dataclass(frozen=True)
class Reference:
    """An earlier alert named in <references>: sender,identifier,sent."""

    sender: str
    identifier: str
    sent: str


@dataclass(frozen=True)
class Alert:
    """A validated CAP 1.2 alert."""

    identifier: str
    sender: str
    sent: datetime
    status: str
    msg_type: str
    scope: str
    infos: tuple[Info, ...]
    references: tuple[Reference, ...] = ()
    sha256: str = ""
    signed: bool = False

    def vietnamese_info(self) -> Info | None:
        """The first <info> in Vietnamese, or None."""
        return next((i for i in self.infos if i.is_vietnamese), None)

    def main_info(self) -> Info | None:
        """The Vietnamese <info> if any, else the first one (for severity and areas)."""
        return self.vietnamese_info() or (self.infos[0] if self.infos else None)

    @property
    def expires(self) -> datetime | None:
        """The latest expiry over all <info> blocks (None when none is given)."""
        values = [i.expires for i in self.infos if i.expires]
        return max(values) if values else None


@lru_cache(maxsize=1)
def schema() -> etree.XMLSchema:
    """The OASIS CAP 1.2 schema shipped in controller/alerts/data."""
    text = resources.files("controller.alerts").joinpath("data/CAP-v1.2.xsd").read_bytes()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.fromstring(text, parser))


def parse(data: bytes, *, max_bytes: int = xml_safety.MAX_BYTES) -> Alert:
    """Hardened parse, schema validation and reading of a CAP 1.2 document; CapRefused if unusable."""
    try:
        root = xml_safety.parse(data, max_bytes=max_bytes)
    except xml_safety.UnsafeXml as exc:
        raise CapRefused(exc.code, str(exc)) from None
    return from_element(root, hashlib.sha256(data).hexdigest())


def from_element(root, sha256: str = "") -> Alert:
    """Validate an already safely parsed <alert> element and read it."""
    if not isinstance(root.tag, str) or etree.QName(root).localname != "alert":
        raise CapRefused("not_cap", f"the root element is <{_local(root)}>, not a CAP <alert>")
    if etree.QName(root).namespace != NS:
        ns = etree.QName(root).namespace or "none"
        raise CapRefused("wrong_namespace", f"namespace {ns!r} is not CAP 1.2 ({NS})")
    sch = schema()
    if not sch.validate(root):
        err = sch.error_log.last_error
        raise CapRefused("invalid", f"not valid CAP 1.2 (line {err.line}): {err.message}")
    return _read(root, sha256)


def _local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else "?"


def _text(el, name: str) -> str:
    child = el.find(_Q + name)
    return (child.text or "").strip() if child is not None else ""


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _pairs(el, name: str) -> tuple[tuple[str, str], ...]:
    return tuple((_text(p, "valueName"), _text(p, "value")) for p in el.findall(_Q + name))


def _read(root, sha256: str) -> Alert:
    infos = tuple(_info(i) for i in root.findall(_Q + "info"))
    return Alert(
        identifier=_text(root, "identifier"), sender=_text(root, "sender"),
        sent=_time(_text(root, "sent")), status=_text(root, "status"),
        msg_type=_text(root, "msgType"), scope=_text(root, "scope"), infos=infos,
        references=parse_references(_text(root, "references")), sha256=sha256,
        signed=root.find("{http://www.w3.org/2000/09/xmldsig#}Signature") is not None,
    )


def parse_references(text: str) -> tuple[Reference, ...]:
    """CAP <references>: space-separated 'sender,identifier,sent' triples."""
    out = []
    for item in text.split():
        parts = item.split(",")
        if len(parts) == 3:
            out.append(Reference(*parts))
    return tuple(out)


def _info(el) -> Info:
    expires = _text(el, "expires")
    return Info(
        language=_text(el, "language") or "en-US", event=_text(el, "event"),
        urgency=_text(el, "urgency"), severity=_text(el, "severity"),
        certainty=_text(el, "certainty"), expires=_time(expires) if expires else None,
        headline=_text(el, "headline"), description=_text(el, "description"),
        instruction=_text(el, "instruction"), sender_name=_text(el, "senderName"),
        parameters=dict(_pairs(el, "parameter")),
        areas=tuple(_area(a) for a in el.findall(_Q + "area")),
    )


def _area(el) -> Area:
    return Area(
        desc=_text(el, "areaDesc"),
        polygons=tuple(parse_polygon(p.text or "") for p in el.findall(_Q + "polygon")),
        circles=tuple(parse_circle(c.text or "") for c in el.findall(_Q + "circle")),
        geocodes=_pairs(el, "geocode"),
    )


def _point(pair: str) -> tuple[float, float]:
    lat, lon = (float(v) for v in pair.split(","))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(pair)
    return lat, lon


def parse_polygon(text: str) -> tuple[tuple[float, float], ...]:
    """CAP polygon 'lat,lon lat,lon …' (at least 4 pairs, first = last); CapRefused otherwise."""
    try:
        points = tuple(_point(p) for p in text.split())
    except ValueError:
        raise CapRefused("bad_polygon", f"polygon has a pair that is not 'lat,lon': {text[:80]!r}") from None
    if len(points) < 4:
        raise CapRefused("bad_polygon", f"a polygon needs at least 4 points, this one has {len(points)}")
    if points[0] != points[-1]:
        raise CapRefused("bad_polygon", "a polygon must end at its first point")
    return points


def parse_circle(text: str) -> tuple[float, float, float]:
    """CAP circle 'lat,lon radius_km'; CapRefused otherwise."""
    try:
        centre, radius = text.split()
        lat, lon = _point(centre)
        r = float(radius)
    except ValueError:
        raise CapRefused("bad_circle", f"a circle must be 'lat,lon radius': {text[:80]!r}") from None
    if not 0 <= r <= 20_000:
        raise CapRefused("bad_circle", f"circle radius {r} km is out of range")
    return lat, lon, r
