"""Which hamlets a CAP <area> concerns: by geocode, or by polygon/circle intersection (shapely).

A hamlet has an optional polygon (GeoJSON, lon/lat order) and a list of geocodes. A hamlet
without a polygon is represented by its speakers' positions, so a commune that only placed
its speakers on the map still gets area matching. A geocode naming the whole commune (or its
district or province; `commune_geocodes` in the config) reaches every hamlet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from shapely.geometry import MultiPoint, Point, Polygon, shape
from shapely.validation import explain_validity

from controller.alerts.cap import Area, CapRefused

KM_PER_DEGREE = 111.32


@dataclass(frozen=True)
class HamletShape:
    """What a hamlet offers for matching."""

    id: int
    name: str
    geometry: object | None
    """A shapely geometry (polygon, or its speakers' points), or None."""
    geocodes: frozenset[str]
    """Codes as 'value' or 'valueName=value'."""


def cap_polygon(points: tuple[tuple[float, float], ...]) -> Polygon:
    """A shapely polygon from CAP (lat, lon) points; CapRefused when its edges cross."""
    poly = Polygon([(lon, lat) for lat, lon in points])
    if not poly.is_valid:
        raise CapRefused("bad_polygon", f"polygon is not a simple ring: {explain_validity(poly)}")
    return poly


def cap_circle(lat: float, lon: float, radius_km: float):
    """An approximate circle (an ellipse in degrees) around (lat, lon)."""
    from shapely import affinity

    ry = radius_km / KM_PER_DEGREE
    rx = ry / max(math.cos(math.radians(lat)), 0.01)
    return affinity.scale(Point(lon, lat).buffer(1.0, quad_segs=16), rx, ry)


def area_geometries(area: Area) -> list:
    """Shapely geometries of an <area> (polygons checked; CapRefused if one is bad)."""
    return ([cap_polygon(p) for p in area.polygons]
            + [cap_circle(*c) for c in area.circles])


def check_areas(areas) -> None:
    """Refuse an alert whose polygons are unusable (raises CapRefused)."""
    for area in areas:
        area_geometries(area)


def hamlet_geometry(polygon_geojson: dict | None, speaker_points: list[tuple[float, float]]):
    """The hamlet's polygon, else the multipoint of its speakers (lat, lon), else None."""
    if polygon_geojson:
        return shape(polygon_geojson)
    if speaker_points:
        return MultiPoint([(lon, lat) for lat, lon in speaker_points])
    return None


def check_geojson_polygon(value) -> dict:
    """A hamlet polygon as GeoJSON (Polygon, or a Feature holding one); ValueError naming the problem."""
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry")
    if isinstance(value, dict) and value.get("type") == "FeatureCollection":
        feats = value.get("features") or []
        if len(feats) != 1:
            raise ValueError("the GeoJSON must hold exactly one polygon")
        value = feats[0].get("geometry")
    if not isinstance(value, dict) or value.get("type") != "Polygon":
        raise ValueError("the GeoJSON must be a Polygon")
    rings = value.get("coordinates")
    if not isinstance(rings, list) or not rings or not isinstance(rings[0], list):
        raise ValueError("the polygon has no coordinates")
    if len(rings[0]) < 4:
        raise ValueError(f"a polygon needs at least 4 points, this one has {len(rings[0])}")
    try:
        poly = shape(value)
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"the polygon cannot be read: {exc}") from None
    if not poly.is_valid:
        raise ValueError(f"the polygon's edges cross: {explain_validity(poly)}")
    return {"type": "Polygon", "coordinates": value["coordinates"]}


def _code_keys(name: str, value: str) -> set[str]:
    return {value.strip(), f"{name.strip()}={value.strip()}"}


def _overlaps(area_geom, hamlet_geom) -> bool:
    """Shares more than a border: neighbouring hamlets touch along their common edge."""
    return area_geom.intersects(hamlet_geom) and not area_geom.touches(hamlet_geom)


def match(areas, hamlets: list[HamletShape], commune_geocodes: frozenset[str] = frozenset()
          ) -> list[HamletShape]:
    """Hamlets concerned by any of the areas, in the given order."""
    hit: set[int] = set()
    for area in areas:
        keys = set().union(*(_code_keys(n, v) for n, v in area.geocodes)) if area.geocodes else set()
        if keys & commune_geocodes:
            return list(hamlets)
        geoms = area_geometries(area)
        for h in hamlets:
            if (keys & h.geocodes) or (h.geometry is not None
                                       and any(_overlaps(g, h.geometry) for g in geoms)):
                hit.add(h.id)
    return [h for h in hamlets if h.id in hit]
