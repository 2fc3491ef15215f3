"""What the two geozone encodings share: EUROCAE ED-269 (:mod:`deconflict.formats.ed269`) and
ED-318 (:mod:`deconflict.formats.ed318`) describe the same UAS geographical zone, with its limits,
horizontal shape and time applicability, in differently shaped JSON. Here: schema faults named by
their JSON path, the zone built as one protected site (each shape in each window one volume), the
explicit rules for limits and windows, and a refusal of the built notice's field mapped back to the
zone's field in the document. No I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError

from deconflict.domain.errors import FieldError, ValidationError
from deconflict.domain.notice_json import parse_notice
from deconflict.domain.policy import Limits
from deconflict.domain.schedule import WEEKDAYS
from deconflict.domain.times import format_time
from deconflict.domain.volumes import PROTECTED_SITE_KIND, Notice
from deconflict.formats.altitude import FT_M
from deconflict.formats.openair import parse_instant


@dataclass(frozen=True)
class Layout:
    """Where an encoding keeps a zone's fields, relative to the zone's JSON path (``features[0]``)
    or to one of its volumes (``lower``, ``upper``, ``lower_ref``, ``upper_ref``, ``horizontal``)."""

    identifier: str
    name: str
    applicability: str
    lower: str
    upper: str
    lower_ref: str
    upper_ref: str
    horizontal: str
    """The shape's key under a volume; empty when the volume is the shape (ED-318's geometry)."""
    permanent: bool
    """Whether an applicability says ``permanent`` (ED-269) or is permanent by having no window."""


@dataclass(frozen=True)
class Zone:
    """A zone read as a protected site: the notice, its place in the document and the rules applied."""

    notice: Notice
    path: str
    said: tuple[str, ...]
    places: tuple[tuple[int, int], ...]
    """(shape, applicability) of each volume: where a refusal of a volume's field is written."""
    layout: Layout
    shapes: tuple[str, ...]
    """The JSON path of each shape's volume, relative to the zone (``geometry[0]``)."""

    def locate(self, e: FieldError) -> FieldError:
        """A refusal of this notice's field (``volumes[k].time_end``) by the JSON path of the zone."""
        return located(e, self.path, self.places, self.layout, self.shapes)


def json_path(parts: Iterable[Any]) -> str:
    """``deque(['features', 0, 'name'])`` → ``features[0].name``."""
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _schema_error(e: SchemaError, branches: dict[str, int]) -> FieldError:
    if e.validator == "oneOf" and e.context and isinstance(e.instance, dict):
        # a shape: report the faults of the branch its "type" names
        branch = branches.get(str(e.instance.get("type")))
        if branch is None:
            return FieldError(json_path([*e.absolute_path, "type"]), f"must be {' or '.join(branches)}")
        inner = [x for x in e.context if x.relative_schema_path and x.relative_schema_path[0] == branch]
        if inner:
            return _schema_error(max(inner, key=lambda x: len(x.absolute_path)), branches)
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


def schema_faults(validator: Draft202012Validator, doc: Any, branches: dict[str, int]) -> list[FieldError]:
    """Every place where ``doc`` breaks the validator's schema, by JSON path, in document order.
    ``branches``: the ``oneOf`` branch of each shape ``type``, so that a bad shape is reported by
    the faults of the shape it names."""
    errors = [_schema_error(e, branches) for e in validator.iter_errors(doc)]
    return sorted(errors, key=lambda e: _sort_key(e.path))


def _sort_key(path: str) -> list[Any]:
    return [int(p) if p.isdigit() else p for p in re.split(r"[\[\].]+", path) if p]


def read_zones(
    features: list[dict[str, Any]], read_one: Callable[[dict[str, Any], str], Zone]
) -> tuple[list[Zone], list[FieldError]]:
    """Each feature's zone (``read_one(feature, its path)``) and every problem; a zone whose
    identifier an earlier zone has is refused at its identifier."""
    zones: list[Zone] = []
    problems: list[FieldError] = []
    seen: dict[str, str] = {}
    for i, feature in enumerate(features):
        path = f"features[{i}]"
        try:
            zone = read_one(feature, path)
        except ValidationError as e:
            problems += e.errors
            continue
        ident = str(zone.notice.id)
        if ident in seen:
            problems.append(
                FieldError(f"{path}.{zone.layout.identifier}", f"{ident!r} is already the zone at {seen[ident]}")
            )
            continue
        seen[ident] = path
        zones.append(zone)
    return zones, problems


def build_zone(
    path: str,
    party: str,
    feature: dict[str, Any],
    shapes: list[tuple[str, dict[str, Any]]],
    windows: list[Window],
    layout: Layout,
    limits: Limits,
    said: list[str],
) -> Zone:
    """The protected site of ``party`` that a zone describes: each shape (its path in the zone and
    its volume JSON) in each window one volume. ``feature`` holds the zone's ``identifier`` and
    (optionally) ``name``, ``country`` and ``restriction``, which the site keeps. A refusal of the
    notice names the zone's field."""
    cells = [(g, k) for g in range(len(shapes)) for k in range(len(windows))]
    places = tuple((g, windows[k][0]) for g, k in cells)
    paths = tuple(p for p, _ in shapes)
    doc = {
        "party": party,
        "id": feature["identifier"],
        "kind": PROTECTED_SITE_KIND,
        **({"name": feature["name"]} if "name" in feature else {}),  # checked as a filed notice's name
        "volumes": [
            {
                "volume": shapes[g][1],
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
        raise ValidationError([located(x, path, places, layout, paths) for x in e.errors]) from None
    keep: dict[str, str] = {k: str(feature[k]) for k in ("country", "restriction") if k in feature}
    return Zone(replace(notice, extra={**notice.extra, **keep}), path, tuple(said), places, layout, paths)


def located(
    e: FieldError, path: str, places: tuple[tuple[int, int], ...], layout: Layout, shapes: tuple[str, ...]
) -> FieldError:
    """A refusal of a zone's notice (``volumes[k].time_end``) at the zone's field in the document."""
    m = re.match(r"volumes\[(\d+)\]\.?(.*)", e.path)
    if m is None:
        key = layout.identifier if e.path.startswith("id") else layout.name if e.path.startswith("name") else ""
        return FieldError(f"{path}.{key}" if key else path, e.reason)
    g, a = places[int(m[1])]
    rest = m[2]
    here = f"{path}.{layout.applicability}[{a}]"
    shape = f"{path}.{shapes[g]}"
    if rest.startswith("schedule"):  # an item is one volume's schedule: its field by name
        item = {"start": "startTime", "end": "endTime", "days": "day"}
        key = next((v for k, v in item.items() if re.search(rf"\.{k}\b", rest)), "")
        return FieldError(f"{here}.schedule", f"{key or rest}: {e.reason}")
    if rest.startswith("time_"):
        return FieldError(f"{here}.{'endDateTime' if rest.startswith('time_end') else 'startDateTime'}", e.reason)
    if "altitude_lower" in rest:
        return FieldError(f"{shape}.{layout.lower}", e.reason)
    if "altitude" in rest:
        return FieldError(f"{shape}.{layout.upper}", e.reason)
    return FieldError(f"{shape}.{layout.horizontal}" if layout.horizontal else shape, e.reason)


Window = tuple[int, float, float, dict[str, Any] | None]
"""(applicability index, start, end, the ``schedule`` JSON of the volume or ``None``)."""


def read_windows(
    items: list[dict[str, Any]] | None,
    base: str,
    window: tuple[float, float] | None,
    said: list[str],
    layout: Layout,
    refused: dict[str, str] | None = None,
) -> list[Window]:
    """The windows of a zone's applicability list at ``base`` (none: permanent): each item's
    ``startDateTime``/``endDateTime`` (or the user's ``window`` when permanent), one window per
    ``schedule`` item, each with its recurring schedule. ``refused``: keys refused by name, why."""
    given = bool(items)
    out: list[Window] = []
    for a, item in enumerate(items or [{}]):
        here = f"{base}[{a}]"
        for key, why in (refused or {}).items():
            if item.get(key):
                raise ValidationError.at(f"{here}.{key}", why)
        where = here if given or layout.permanent else base
        at = f"{here}.permanent" if layout.permanent else where
        bounds = _bounds(item, here, at, where, window, said)
        schedules = [schedule_item(x, f"{here}.schedule[{k}]", said) for k, x in enumerate(item.get("schedule") or [])]
        out += [(a, *bounds, x) for x in schedules] if schedules else [(a, *bounds, None)]
    return out


def schedule_item(item: dict[str, Any], here: str, said: list[str]) -> dict[str, Any]:
    """One schedule item (``day``, ``startTime``, ``endTime``, both encodings) as our ``schedule``,
    its times read as UTC."""
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
        text = text[:-1] if text.upper().endswith("Z") else re.sub(r"[+-]00:?00$", "", text)
        if re.search(r"[+-]\d\d:?\d\d$", text):
            raise ValidationError.at(f"{here}.{key}", f"{item[key]!r}: a time with an offset from UTC is not read")
        times.append(text)
    days = item.get("day") or ["ANY"]
    if "day" not in item:
        said.append(f"{here}: no day, every day")
    out: dict[str, Any] = {"windows": [{"start": times[0], "end": times[1]}]}
    if "ANY" not in days:
        out = {"days": [d for d in WEEKDAYS if d in days], **out}
    return out


def _bounds(
    item: dict[str, Any],
    here: str,
    permanent_at: str,
    where: str,
    window: tuple[float, float] | None,
    said: list[str],
) -> tuple[float, float]:
    """An applicability's window: its start and end, or the user's for a permanent zone."""
    if item.get("permanent") == "YES" or ("startDateTime" not in item and "endDateTime" not in item):
        if window is None:
            raise ValidationError.at(
                permanent_at, "a permanent zone needs the activation window the user gives (start and end)"
            )
        said.append(f"{where}: permanent, active in the window given")
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


def band(
    lo: float, hi: float, refs: tuple[str, str], feet: bool, path: str, layout: Layout, limits: Limits, said: list[str]
) -> dict[str, Any]:
    """A volume's limits (``refs``: lower and upper reference, ``AGL``, ``AMSL`` or ``WGS84``) as our
    ``altitude_lower``/``altitude_upper`` in metres: AMSL, or W84 for WGS84; a floor of 0 AGL under an
    AMSL ceiling is the theater's lowest altitude (reported), any other AGL refused."""
    unit = FT_M if feet else 1.0
    lo, hi = lo * unit, hi * unit
    lo_ref, hi_ref = refs
    if hi_ref == "AGL":
        raise ValidationError.at(f"{path}.{layout.upper_ref}", "a height above ground needs terrain data")
    if lo_ref == "AGL":
        if lo != 0 or hi_ref != "AMSL":
            raise ValidationError.at(
                f"{path}.{layout.lower_ref}",
                "a height above ground needs terrain data (only a floor of 0 AGL under an AMSL ceiling is read)",
            )
        lo, lo_ref = limits.min_altitude_m, "AMSL"
        said.append(f"{path}.{layout.lower} 0 AGL is {lo:g} m AMSL, the theater's lowest altitude")
    if lo_ref != hi_ref:
        raise ValidationError.at(f"{path}.{layout.upper_ref}", f"must be {lo_ref} as the lower limit is")
    ref = "W84" if lo_ref == "WGS84" else "AMSL"
    return {
        "altitude_lower": {"value": lo, "reference": ref, "units": "M"},
        "altitude_upper": {"value": hi, "reference": ref, "units": "M"},
    }


def circle(center: list[float], radius_m: float) -> dict[str, Any]:
    """A GeoJSON position (lon, lat) and a radius in metres as our circle outline."""
    return {
        "outline_circle": {"center": {"lat": center[1], "lng": center[0]}, "radius": {"value": radius_m, "units": "M"}}
    }


def polygon(coordinates: list[list[list[float]]], path: str) -> dict[str, Any]:
    """A GeoJSON polygon's rings (at ``path``) as our polygon outline: one closed ring, no holes."""
    if len(coordinates) != 1:
        raise ValidationError.at(path, "a polygon with holes is not read")
    ring = coordinates[0]
    if ring[0] != ring[-1]:
        raise ValidationError.at(f"{path}[0]", "the ring must end where it starts")
    return {"outline_polygon": {"vertices": [{"lat": q[1], "lng": q[0]} for q in ring[:-1]]}}
