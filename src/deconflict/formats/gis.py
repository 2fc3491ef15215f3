"""GeoJSON and KML for a party's own GIS: notices, protected sites and conflict slices.

The input is what a caller may see: the views :class:`deconflict.domain.disclosure.Disclosure`
cut (the broker's ``list_notices`` and ``list_conflicts``), never the stored forms, so an export
shows nothing the caller could not read over the API. A notice's volume becomes a polygon feature:
a polygon as it is, a circle, corridor or orbit as a polygon that contains it (its outline in the
shape's own local frame, vertices pushed out so the chords never cut inside). A conflict becomes
its slice's ``overlap`` (exact, on the grid, or the coarse ``area``, as disclosed). Properties
carry the rest of the view: band, window, parties, ids, disclosure level.
"""

from __future__ import annotations

import json
import math
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import shapely
import shapely.affinity
import shapely.geometry.polygon

from deconflict.domain.geodesy import LocalFrame
from deconflict.domain.parse import parse_volume4d
from deconflict.domain.shapes import ShapeKind

CIRCLE_SEGMENTS = 72
"""Vertices of a circle (or a corridor's round end) written as a polygon."""


def volume_polygon(volume_json: dict[str, Any]) -> dict[str, Any]:
    """A GeoJSON Polygon that contains the F3548 volume's outline ([lon, lat] positions)."""
    shape = parse_volume4d(volume_json, stored=True).shape
    if shape.kind is ShapeKind.POLYGON:
        lat = np.array([p[0] for p in shape.points] + [shape.points[0][0]])
        lon = np.array([p[1] for p in shape.points] + [shape.points[0][1]])
        return _cut_at_antimeridian(lat, lon)
    frame = LocalFrame(*shape.center)
    # A buffer's chords sag inside the circle by r(1 - cos(π/n)): grow the radius so they do not.
    grow = 1 / math.cos(math.pi / CIRCLE_SEGMENTS)
    area = shape.core_in(frame).buffer(shape.buffer_m * grow, quad_segs=CIRCLE_SEGMENTS // 4)
    x, y = np.asarray(area.exterior.xy[0]), np.asarray(area.exterior.xy[1])
    lat, lon = frame.inverse(x, y)
    return _cut_at_antimeridian(np.asarray(lat, float), np.asarray(lon, float))


def _cut_at_antimeridian(lat: np.ndarray[Any, Any], lon: np.ndarray[Any, Any]) -> dict[str, Any]:
    """A closed ring of positions as GeoJSON: a Polygon as it is, or, where it crosses the
    antimeridian, a MultiPolygon of its parts on either side (RFC 7946 §3.1.9), so that a GIS does
    not draw it the long way round the world."""
    unwrapped = np.degrees(np.unwrap(np.radians(lon)))
    unwrapped -= 360.0 * np.round((unwrapped.mean()) / 360.0)  # its middle within [-180, 180]
    if unwrapped.min() >= -180.0 and unwrapped.max() <= 180.0:
        ring = [[float(b), float(a)] for a, b in zip(lat, unwrapped, strict=True)]
        return {"type": "Polygon", "coordinates": [ring]}
    whole = shapely.make_valid(shapely.Polygon(np.column_stack([unwrapped, lat])))
    parts: list[list[list[list[float]]]] = []
    for west, shift in ((-540.0, 360.0), (-180.0, 0.0), (180.0, -360.0)):
        piece = shapely.affinity.translate(whole.intersection(shapely.box(west, -90.0, west + 360.0, 90.0)), shift)
        for poly in getattr(piece, "geoms", [piece]):
            if poly.geom_type == "Polygon" and not poly.is_empty and poly.area > 0:
                ring = shapely.geometry.polygon.orient(poly, 1.0).exterior.coords  # counter-clockwise
                parts.append([[[float(x), float(y)] for x, y in ring]])
    return {"type": "MultiPolygon", "coordinates": parts}


def notice_features(view: dict[str, Any]) -> list[dict[str, Any]]:
    """The features of one notice view: one for each volume."""
    out = []
    for j, v in enumerate(view["volumes"]):
        vol = v["volume"]
        props = {
            "layer": "site" if view.get("protected_site") else "notice",
            "notice": view.get("id"),
            "party": view["party"],
            "kind": view["kind"],
            "state": view.get("state"),
            "volume": j,
            "altitude_lower": vol["altitude_lower"],
            "altitude_upper": vol["altitude_upper"],
            "time_start": v["time_start"]["value"],
            "time_end": v["time_end"]["value"],
        }
        if "schedule" in v:  # a recurring volume: active only in these daily windows (docs/notices.md)
            props["schedule"] = v["schedule"]
        out.append({"type": "Feature", "geometry": volume_polygon(v), "properties": props})
    return out


def conflict_feature(view: dict[str, Any]) -> dict[str, Any] | None:
    """A conflict view as a feature of its disclosed slice (``None`` when it shows no area)."""
    slice_ = view.get("slice")
    geometry = slice_.get("overlap") if slice_ else view.get("area")
    if geometry is None:
        return None
    props: dict[str, Any] = {
        "layer": "conflict",
        "conflict": view.get("id"),
        "state": view.get("state"),
        "disclosure": view.get("disclosure", "full"),
        "sides": [
            {k: side.get(k) for k in ("party", "notice", "protected_site", "hidden") if k in side}
            for side in view.get("sides", [])
        ],
    }
    if slice_:
        props.update(altitude=slice_.get("altitude"), time_window=slice_.get("time_window"))
    else:
        props.update(time_window=view.get("time_window"))
    return {"type": "Feature", "geometry": geometry, "properties": props}


def feature_collection(notices: list[dict[str, Any]], conflicts: list[dict[str, Any]]) -> dict[str, Any]:
    features = [f for n in notices for f in notice_features(n)]
    features += [f for c in conflicts if (f := conflict_feature(c)) is not None]
    return {"type": "FeatureCollection", "features": features}


def to_kml(collection: dict[str, Any], name: str = "deconflict") -> str:
    """A GeoJSON FeatureCollection as KML 2.2 (outlines clamped to the ground; each feature's
    properties as its description, in JSON)."""
    marks = []
    for f in collection["features"]:
        p = f["properties"]
        title = p.get("notice") or p.get("conflict") or p.get("layer")
        marks.append(
            "<Placemark>"
            f"<name>{escape(str(p['layer']))} {escape(str(title))}</name>"
            f"<description>{escape(json.dumps(p, sort_keys=True))}</description>"
            f"{_kml_geometry(f['geometry'])}</Placemark>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        f"<name>{escape(name)}</name>\n" + "\n".join(marks) + "\n</Document></kml>\n"
    )


def _kml_geometry(g: dict[str, Any]) -> str:
    kind = g["type"]
    if kind == "Point":
        return f"<Point><coordinates>{_kml_coords([g['coordinates']])}</coordinates></Point>"
    if kind == "Polygon":
        rings = g["coordinates"]
        inner = "".join(
            f"<innerBoundaryIs><LinearRing><coordinates>{_kml_coords(r)}</coordinates></LinearRing></innerBoundaryIs>"
            for r in rings[1:]
        )
        return (
            f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{_kml_coords(rings[0])}</coordinates>"
            f"</LinearRing></outerBoundaryIs>{inner}</Polygon>"
        )
    if kind == "MultiPolygon":
        parts = "".join(_kml_geometry({"type": "Polygon", "coordinates": p}) for p in g["coordinates"])
        return f"<MultiGeometry>{parts}</MultiGeometry>"
    if kind == "GeometryCollection":
        return f"<MultiGeometry>{''.join(_kml_geometry(x) for x in g['geometries'])}</MultiGeometry>"
    if kind == "LineString":
        return f"<LineString><coordinates>{_kml_coords(g['coordinates'])}</coordinates></LineString>"
    raise ValueError(f"no KML form for a GeoJSON {kind}")


def _kml_coords(positions: list[list[float]]) -> str:
    return " ".join(f"{p[0]:.7f},{p[1]:.7f}" for p in positions)
