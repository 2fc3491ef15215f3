"""ED-269 UAS geographical zones in (as protected sites) and protected sites out.

A document is first validated against our JSON Schema of the format
(:mod:`deconflict.formats.ed269_schema`, with ``jsonschema``); every error names its JSON path
(``features[0].geometry[1].lowerVerticalReference``). Then each zone becomes one protected site of
the given party: its ``identifier`` the id, each ``geometry`` volume in each ``applicability``
window one volume. Explicit rules:

- a ``Polygon`` (one ring: holes are refused) is our polygon, a ``Circle`` our circle;
- limits in ``M`` or ``FT``; ``AMSL`` is AMSL, ``WGS84`` is W84; a floor of ``0 AGL`` is the
  theater's lowest altitude AMSL (the SFC rule of :mod:`deconflict.formats.altitude`, reported);
  any other height above ground is refused (the broker has no terrain data), and so are two
  different references in one volume;
- an applicability with ``startDateTime`` and ``endDateTime`` is one window; ``permanent: YES`` (or
  no applicability) takes the window the user gives, and is refused without one;
- an applicability's ``schedule`` makes each of its items (``day``, ``startTime``, ``endTime``,
  UTC) one volume with a recurring schedule within that window (:mod:`deconflict.domain.schedule`);
  an item timed by sunrise or sunset (``startEvent``, ``endEvent``) is refused, and so are keys named
  ``dailyPeriod`` or ``weekdays``, by name (a daily period is a ``schedule`` item).
"""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator

from deconflict.domain.errors import FieldError, ValidationError
from deconflict.domain.policy import Limits
from deconflict.domain.schedule import EVERY_DAY, Schedule, clock_text, day_names
from deconflict.domain.shapes import ShapeKind
from deconflict.domain.times import format_time
from deconflict.domain.volumes import Notice, Volume4D
from deconflict.formats.ed269_schema import SCHEMA
from deconflict.formats.geozone import (
    Layout,
    Zone,
    band,
    build_zone,
    circle,
    polygon,
    read_windows,
    read_zones,
    schema_faults,
)

__all__ = ["LAYOUT", "Zone", "read_doc", "read_geozones", "validate", "write_geozones"]

RECURRING = {
    key: "is not a key of an applicability: ED-269 and ED-318 both write a daily period (ED-318's DailyPeriod) "
    "as a schedule item (day, startTime, endTime), within startDateTime and endDateTime"
    for key in ("dailyPeriod", "weekdays")
}
"""Keys a writer may guess for the recurring time model, refused by name with where it goes."""
_VALIDATOR = Draft202012Validator(SCHEMA)
_SHAPES = {"Circle": 0, "Polygon": 1}
"""The ``oneOf`` branch of each horizontal projection in the schema."""
LAYOUT = Layout(
    identifier="identifier",
    name="name",
    applicability="applicability",
    lower="lowerLimit",
    upper="upperLimit",
    lower_ref="lowerVerticalReference",
    upper_ref="upperVerticalReference",
    horizontal="horizontalProjection",
    permanent=True,
)


def validate(doc: Any) -> list[FieldError]:
    """Every place where ``doc`` breaks our schema of the format, by JSON path, in document order."""
    return schema_faults(_VALIDATOR, doc, _SHAPES)


def read_geozones(
    text: str, party: str, limits: Limits | None = None, window: tuple[float, float] | None = None
) -> tuple[list[Zone], list[FieldError]]:
    """The zones of an ED-269 document as protected sites of ``party``, and every problem (its JSON
    path and why). ``window`` is the activation of permanent zones."""
    try:
        doc = json.loads(text)
    except ValueError as e:
        return [], [FieldError("document", f"is not JSON ({e})")]
    return read_doc(doc, party, limits or Limits(), window)


def read_doc(
    doc: Any, party: str, limits: Limits, window: tuple[float, float] | None
) -> tuple[list[Zone], list[FieldError]]:
    """:func:`read_geozones` of a document already decoded."""
    problems = validate(doc)
    if problems:
        return [], problems
    return read_zones(doc["features"], lambda f, path: _zone(f, path, party, limits, window))


def _zone(f: dict[str, Any], path: str, party: str, limits: Limits, window: tuple[float, float] | None) -> Zone:
    said: list[str] = []
    items = f.get("applicability") or [{"permanent": "YES"}]
    windows = read_windows(items, f"{path}.applicability", window, said, LAYOUT, RECURRING)
    shapes = [
        (f"geometry[{g}]", _volume(v, f"{path}.geometry[{g}]", limits, said)) for g, v in enumerate(f["geometry"])
    ]
    return build_zone(path, party, f, shapes, windows, LAYOUT, limits, said)


def _volume(v: dict[str, Any], path: str, limits: Limits, said: list[str]) -> dict[str, Any]:
    refs = (v["lowerVerticalReference"], v["upperVerticalReference"])
    limits_json = band(v["lowerLimit"], v["upperLimit"], refs, v["uomDimensions"] == "FT", path, LAYOUT, limits, said)
    p = v["horizontalProjection"]
    if p["type"] == "Circle":
        outline = circle(p["center"], p["radius"])
    else:
        outline = polygon(p["coordinates"], f"{path}.horizontalProjection.coordinates")
    return {**outline, **limits_json}


# ---------------------------------------------------------------- out


def write_geozones(notices: list[Notice], country: str, title: str = "deconflict protected sites") -> dict[str, Any]:
    """Protected sites as an ED-269 document (each site one zone, ``PROHIBITED``, reason ``OTHER``).
    A site's volumes must be every shape in every window (what a zone says); corridors, orbits and
    flight levels have no ED-269 form. Refusals name the site."""
    features = []
    for n in notices:
        shapes: list[tuple[Any, Any]] = []
        windows: list[tuple[float, float, Schedule | None]] = []
        for v in n.volumes:
            if (v.shape, v.altitude) not in shapes:
                shapes.append((v.shape, v.altitude))
            if (v.time_start, v.time_end, v.schedule) not in windows:
                windows.append((v.time_start, v.time_end, v.schedule))
        if [(v.shape, v.altitude, v.time_start, v.time_end, v.schedule) for v in n.volumes] != [
            (s, b, *w) for s, b in shapes for w in windows
        ]:
            raise ValidationError.at(
                str(n.id), "its volumes are not each shape in each window, which an ED-269 zone cannot say"
            )
        features.append(
            {
                "identifier": (n.id or "").removeprefix(n.party + ":"),
                "country": country,
                "name": n.extra.get("name", n.id or ""),
                "type": "COMMON",
                "restriction": n.extra.get("restriction", "PROHIBITED"),
                "reason": ["OTHER"],
                "otherReasonInfo": f"protected site of {n.party} (deconflict)",
                "applicability": [_applicability(*w) for w in windows],
                "geometry": [_geometry(n, v) for v in n.volumes[:: len(windows)]],
            }
        )
    return {"title": title, "features": features}


def _applicability(start: float, end: float, schedule: Schedule | None) -> dict[str, Any]:
    out: dict[str, Any] = {"permanent": "NO", "startDateTime": format_time(start), "endDateTime": format_time(end)}
    if schedule is not None:  # one item per daily window (each item has one start and end)
        days = ["ANY"] if schedule.days == EVERY_DAY else day_names(schedule.days)
        out["schedule"] = [
            {"day": days, "startTime": clock_text(w.start_s), "endTime": clock_text(w.end_s)} for w in schedule.windows
        ]
    return out


def _geometry(n: Notice, v: Volume4D) -> dict[str, Any]:
    ref = v.altitude.reference.value
    if ref not in ("AMSL", "W84"):
        raise ValidationError.at(str(n.id), f"a {ref} band has no ED-269 form (AMSL or WGS84 heights only)")
    s = v.shape
    if s.kind is ShapeKind.CIRCLE:
        lat, lon = s.points[0]
        projection: dict[str, Any] = {"type": "Circle", "center": [lon, lat], "radius": s.buffer_m}
    elif s.kind is ShapeKind.POLYGON:
        ring = [[lon, lat] for lat, lon in s.points]
        projection = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
    else:
        raise ValidationError.at(str(n.id), f"a {s.kind.value} has no ED-269 form (polygons and circles only)")
    verticals = "WGS84" if ref == "W84" else "AMSL"
    return {
        "uomDimensions": "M",
        "lowerLimit": v.altitude.lower_m,
        "lowerVerticalReference": verticals,
        "upperLimit": v.altitude.upper_m,
        "upperVerticalReference": verticals,
        "horizontalProjection": projection,
    }
