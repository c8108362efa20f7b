"""Where each hamlet is, for alerts: a GeoJSON polygon and a list of geocodes, edited by an admin."""

from __future__ import annotations

import json

import sqlalchemy as sa

from controller.alerts import areas
from controller.alerts.models import HamletArea
from controller.models import Hamlet, utcnow
from controller.services import audit
from controller.services.errors import NotFound, ServiceError


def all_areas(s) -> dict[int, HamletArea]:
    """Every hamlet's area row by hamlet id."""
    return {a.hamlet_id: a for a in s.scalars(sa.select(HamletArea))}


def parse_geocodes(text) -> list[str]:
    """Codes separated by commas, spaces or new lines ('89', 'PROVINCE=89')."""
    items = ([str(x) for x in text] if isinstance(text, list)
             else str(text or "").replace(",", " ").split())
    codes = [c.strip() for c in items if c.strip()]
    if any(len(c) > 80 for c in codes) or len(codes) > 50:
        raise ServiceError("bad_geocodes", "at most 50 geocodes of at most 80 characters",
                           field="geocodes")
    return codes


def parse_polygon(value) -> dict | None:
    """A GeoJSON polygon from text or a dict (empty: no polygon); ServiceError naming the problem."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise ServiceError("bad_polygon", f"the GeoJSON cannot be read: {exc}", field="polygon") from None
    try:
        return areas.check_geojson_polygon(value)
    except ValueError as exc:
        raise ServiceError("bad_polygon", str(exc), field="polygon") from None


def set_area(s, hamlet_id: int, *, polygon, geocodes, actor: str | None) -> HamletArea:
    """Replace a hamlet's polygon and geocodes (both checked first; nothing stored on error)."""
    if s.get(Hamlet, hamlet_id) is None:
        raise NotFound("unknown_hamlet", f"unknown hamlet {hamlet_id}")
    poly = parse_polygon(polygon)
    codes = parse_geocodes(geocodes)
    row = s.get(HamletArea, hamlet_id)
    if row is None:
        row = HamletArea(hamlet_id=hamlet_id)
        s.add(row)
    row.polygon, row.geocodes, row.updated_at = poly, codes, utcnow()
    s.flush()
    audit.record(s, "hamlet_area_set", actor=actor, target=f"hamlet:{hamlet_id}",
                 detail=f"polygon={'yes' if poly else 'no'} geocodes={','.join(codes)[:200]}")
    return row
