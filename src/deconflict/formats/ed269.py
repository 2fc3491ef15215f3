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
  an item timed by sunrise or sunset (``startEvent``, ``endEvent``) is refused, and so is ED-318's
  recurring model (``dailyPeriod``, ``weekdays``), by name.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError

from deconflict.domain.errors import FieldError, ValidationError
from deconflict.domain.parse import format_time, parse_notice
from deconflict.domain.policy import Limits
from deconflict.domain.schedule import EVERY_DAY, WEEKDAYS, Schedule, clock_text, day_names
from deconflict.domain.shapes import ShapeKind
from deconflict.domain.volumes import PROTECTED_SITE_KIND, Notice, Volume4D
from deconflict.formats.altitude import FT_M
from deconflict.formats.ed269_schema import SCHEMA
from deconflict.formats.openair import parse_instant

RECURRING = ("dailyPeriod", "weekdays")
"""Applicability keys that describe recurring time; refused until recurring schedules exist."""
_VALIDATOR = Draft202012Validator(SCHEMA)


@dataclass(frozen=True)
class Zone:
    """A zone read as a protected site: the notice, its place in the document and the rules applied."""

    notice: Notice
    path: str
    said: tuple[str, ...]
    places: tuple[tuple[int, int], ...] = ()
    """(geometry, applicability) of each volume: where a refusal of a volume's field is written."""

    def locate(self, e: FieldError) -> FieldError:
        """A refusal of this notice's field (``volumes[k].time_end``) by the JSON path of the zone."""
        return located(e, self.path, list(self.places))


def json_path(parts: Any) -> str:
    """``deque(['features', 0, 'name'])`` → ``features[0].name``."""
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _schema_error(e: SchemaError) -> FieldError:
    if e.validator == "oneOf" and e.context and isinstance(e.instance, dict):
        # a horizontal projection: report the faults of the shape its "type" names
        branch = {"Circle": 0, "Polygon": 1}.get(str(e.instance.get("type")))
        if branch is None:
            return FieldError(json_path([*e.absolute_path, "type"]), "must be Polygon or Circle")
        inner = [x for x in e.context if x.relative_schema_path and x.relative_schema_path[0] == branch]
        if inner:
            return _schema_error(max(inner, key=lambda x: len(x.absolute_path)))
    path = json_path(e.absolute_path)
    if e.validator == "required" and isinstance(e.instance, dict):
        missing = [k for k in e.validator_value if k not in e.instance]
        return FieldError(json_path([*e.absolute_path, missing[0]]) if missing else path, "is required")
    if e.validator == "additionalProperties" and isinstance(e.instance, dict):
        allowed = e.schema.get("properties", {})
        extra = sorted(k for k in e.instance if k not in allowed)
        if extra:
            return FieldError(
                json_path([*e.absolute_path, extra[0]]), f"is not a field here (known: {', '.join(allowed)})"
            )
    return FieldError(path or "document", e.message)


def validate(doc: Any) -> list[FieldError]:
    """Every place where ``doc`` breaks our schema of the format, by JSON path, in document order."""
    errors = [_schema_error(e) for e in _VALIDATOR.iter_errors(doc)]
    return sorted(errors, key=lambda e: _sort_key(e.path))


def _sort_key(path: str) -> list[Any]:
    return [int(p) if p.isdigit() else p for p in re.split(r"[\[\].]+", path) if p]


def read_geozones(
    text: str, party: str, limits: Limits | None = None, window: tuple[float, float] | None = None
) -> tuple[list[Zone], list[FieldError]]:
    """The zones of an ED-269 document as protected sites of ``party``, and every problem (its JSON
    path and why). ``window`` is the activation of permanent zones."""
    limits = limits or Limits()
    try:
        doc = json.loads(text)
    except ValueError as e:
        return [], [FieldError("document", f"is not JSON ({e})")]
    problems = validate(doc)
    if problems:
        return [], problems
    zones: list[Zone] = []
    seen: dict[str, str] = {}
    for i, feature in enumerate(doc["features"]):
        path = f"features[{i}]"
        try:
            zone = _zone(feature, path, party, limits, window)
        except ValidationError as e:
            problems += e.errors
            continue
        ident = feature["identifier"]
        if ident in seen:
            problems.append(FieldError(f"{path}.identifier", f"{ident!r} is already the zone at {seen[ident]}"))
            continue
        seen[ident] = path
        zones.append(zone)
    return zones, problems


def _zone(f: dict[str, Any], path: str, party: str, limits: Limits, window: tuple[float, float] | None) -> Zone:
    said: list[str] = []
    windows = _windows(f.get("applicability") or [{"permanent": "YES"}], path, window, said)
    shapes = []
    for g, vol in enumerate(f["geometry"]):
        shapes.append(_volume(vol, f"{path}.geometry[{g}]", limits, said))
    cells = [(g, k) for g in range(len(shapes)) for k in range(len(windows))]
    places = [(g, windows[k][0]) for g, k in cells]
    doc = {
        "party": party,
        "id": f["identifier"],
        "kind": PROTECTED_SITE_KIND,
        **({"name": f["name"]} if "name" in f else {}),  # the notice's name: checked as a filed one's
        "volumes": [
            {
                "volume": shapes[g],
                "time_start": format_time(windows[k][1]),
                "time_end": format_time(windows[k][2]),
                **({"schedule": windows[k][3]} if windows[k][3] is not None else {}),
            }
            for g, k in cells
        ],
    }
    try:
        notice = parse_notice(doc, limits)
    except ValidationError as e:
        raise ValidationError([located(x, path, places) for x in e.errors]) from None
    extra: dict[str, str] = {**notice.extra, **{k: str(f[k]) for k in ("country", "restriction") if k in f}}
    return Zone(replace(notice, extra=extra), path, tuple(said), tuple(places))


def located(e: FieldError, path: str, places: list[tuple[int, int]]) -> FieldError:
    m = re.match(r"volumes\[(\d+)\]\.?(.*)", e.path)
    if m is None:
        key = "identifier" if e.path.startswith("id") else "name" if e.path.startswith("name") else ""
        return FieldError(f"{path}.{key}" if key else path, e.reason)
    g, a = places[int(m[1])]
    rest = m[2]
    if rest.startswith("schedule"):  # an item is one volume's schedule: its field by name
        item = {"start": "startTime", "end": "endTime", "days": "day"}
        key = next((v for k, v in item.items() if re.search(rf"\.{k}\b", rest)), "")
        return FieldError(f"{path}.applicability[{a}].schedule", f"{key or rest}: {e.reason}")
    if rest.startswith("time_"):
        key = "endDateTime" if rest.startswith("time_end") else "startDateTime"
        return FieldError(f"{path}.applicability[{a}].{key}", e.reason)
    if "altitude_lower" in rest:
        return FieldError(f"{path}.geometry[{g}].lowerLimit", e.reason)
    if "altitude" in rest:
        return FieldError(f"{path}.geometry[{g}].upperLimit", e.reason)
    return FieldError(f"{path}.geometry[{g}].horizontalProjection", e.reason)


Window = tuple[int, float, float, dict[str, Any] | None]
"""(applicability index, start, end, the ``schedule`` JSON of the volume or ``None``)."""


def _windows(
    items: list[dict[str, Any]], path: str, window: tuple[float, float] | None, said: list[str]
) -> list[Window]:
    out: list[Window] = []
    for a, item in enumerate(items):
        here = f"{path}.applicability[{a}]"
        for key in RECURRING:
            if item.get(key):
                raise ValidationError.at(
                    f"{here}.{key}",
                    "ED-318's recurring time model is not read: write the recurrence as ED-269 schedule items "
                    "(day, startTime, endTime) with startDateTime and endDateTime",
                )
        bounds = _bounds(item, here, window, said)
        schedules = [_schedule(x, f"{here}.schedule[{k}]", said) for k, x in enumerate(item.get("schedule") or [])]
        out += [(a, *bounds, x) for x in schedules] if schedules else [(a, *bounds, None)]
    return out


def _schedule(item: dict[str, Any], here: str, said: list[str]) -> dict[str, Any]:
    """One ED-269 schedule item as our ``schedule`` (its times read as UTC)."""
    for key in ("startEvent", "endEvent"):
        if key in item:
            raise ValidationError.at(
                f"{here}.{key}", "a time by sunrise or sunset is not read (no ephemeris): give startTime and endTime"
            )
    times = []
    for key in ("startTime", "endTime"):
        if key not in item:
            raise ValidationError.at(f"{here}.{key}", "is required in a schedule item")
        text = str(item[key]).strip()
        times.append(text[:-1] if text.upper().endswith("Z") else text)
    days = item.get("day") or ["ANY"]
    if "day" not in item:
        said.append(f"{here}: no day, every day")
    out: dict[str, Any] = {"windows": [{"start": times[0], "end": times[1]}]}
    if "ANY" not in days:
        out = {"days": [d for d in WEEKDAYS if d in days], **out}
    return out


def _bounds(
    item: dict[str, Any], here: str, window: tuple[float, float] | None, said: list[str]
) -> tuple[float, float]:
    """An applicability's window: its start and end, or the user's for a permanent zone."""
    if item.get("permanent") == "YES" or ("startDateTime" not in item and "endDateTime" not in item):
        if window is None:
            raise ValidationError.at(
                f"{here}.permanent", "a permanent zone needs the activation window the user gives (start and end)"
            )
        said.append(f"{here}: permanent, active in the window given")
        return window
    bounds = []
    for key in ("startDateTime", "endDateTime"):
        if key not in item:
            raise ValidationError.at(f"{here}.{key}", "is required when the zone is not permanent")
        try:
            bounds.append(parse_instant(item[key]))
        except ValueError as e:
            raise ValidationError.at(f"{here}.{key}", str(e)) from None
    return bounds[0], bounds[1]


def _volume(v: dict[str, Any], path: str, limits: Limits, said: list[str]) -> dict[str, Any]:
    unit = FT_M if v["uomDimensions"] == "FT" else 1.0
    lo, hi = v["lowerLimit"] * unit, v["upperLimit"] * unit
    lo_ref, hi_ref = v["lowerVerticalReference"], v["upperVerticalReference"]
    if hi_ref == "AGL":
        raise ValidationError.at(f"{path}.upperVerticalReference", "a height above ground needs terrain data")
    if lo_ref == "AGL":
        if lo != 0 or hi_ref != "AMSL":
            raise ValidationError.at(
                f"{path}.lowerVerticalReference",
                "a height above ground needs terrain data (only a floor of 0 AGL under an AMSL ceiling is read)",
            )
        lo, lo_ref = limits.min_altitude_m, "AMSL"
        said.append(f"{path}.lowerLimit 0 AGL is {lo:g} m AMSL, the theater's lowest altitude")
    if lo_ref != hi_ref:
        raise ValidationError.at(f"{path}.upperVerticalReference", f"must be {lo_ref} as the lower limit is")
    ref = "W84" if lo_ref == "WGS84" else "AMSL"
    p = v["horizontalProjection"]
    if p["type"] == "Circle":
        centre = {"lat": p["center"][1], "lng": p["center"][0]}
        outline: dict[str, Any] = {"outline_circle": {"center": centre, "radius": {"value": p["radius"], "units": "M"}}}
    else:
        if len(p["coordinates"]) != 1:
            raise ValidationError.at(f"{path}.horizontalProjection.coordinates", "a polygon with holes is not read")
        ring = p["coordinates"][0]
        if ring[0] != ring[-1]:
            raise ValidationError.at(f"{path}.horizontalProjection.coordinates[0]", "the ring must end where it starts")
        outline = {"outline_polygon": {"vertices": [{"lat": q[1], "lng": q[0]} for q in ring[:-1]]}}
    return {
        **outline,
        "altitude_lower": {"value": lo, "reference": ref, "units": "M"},
        "altitude_upper": {"value": hi, "reference": ref, "units": "M"},
    }


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
