"""ED-318 UAS geographical zones in, as protected sites.

ED-318 is the GeoJSON-shaped encoding of the zones ED-269 describes: a ``FeatureCollection`` whose
features' ``properties`` are the zone and whose ``geometry`` carries the vertical limits (its
``layer``). A document is first validated against our JSON Schema of the format
(:mod:`deconflict.formats.ed318_schema`, with ``jsonschema``); every error names its JSON path
(``features[0].geometry.layer.uom``). Then each zone becomes one protected site of the given party,
by the same rules as an ED-269 zone (:mod:`deconflict.formats.geozone`): its ``identifier`` the
id, each shape in each ``limitedApplicability`` period one volume. Explicit rules:

- a ``Polygon`` (one ring) is our polygon, a ``Point`` with a ``Circle`` ``extent`` our circle; a
  ``GeometryCollection`` of them is one volume per member; a ``Point`` without an extent is refused;
- limits in ``m`` or ``ft`` (``m`` when ``uom`` is left out); ``AMSL`` is AMSL, ``WGS84`` is W84; a
  floor of ``0 AGL`` under an AMSL ceiling is the theater's lowest altitude AMSL (reported), any
  other height above ground is refused;
- a period with ``startDateTime`` and ``endDateTime`` is one window; a zone without
  ``limitedApplicability`` (or a period without either) takes the window the user gives;
- a period's ``schedule`` makes each of its daily periods (``day``, ``startTime``, ``endTime``, UTC)
  one volume with a recurring schedule, exactly as an ED-269 ``schedule`` item; a daily period
  timed by sunrise or sunset (``startEvent``, ``endEvent``) is refused;
- the zone's ``name`` (the first text of a list) is the site's name, its ``country`` and ``type``
  are kept with the site (``REQ_AUTHORIZATION`` as ED-269 spells it, ``REQ_AUTHORISATION``; a
  ``USPACE`` zone keeps none).
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from deconflict.domain.errors import FieldError, ValidationError
from deconflict.domain.policy import Limits
from deconflict.formats import geozone
from deconflict.formats.ed318_schema import SCHEMA, SHAPES
from deconflict.formats.geozone import Layout, Zone

_VALIDATOR = Draft202012Validator(SCHEMA)
LAYOUT = Layout(
    *("properties.identifier", "properties.name", "properties.limitedApplicability"),
    *("layer.lower", "layer.upper", "layer.lowerReference", "layer.upperReference"),
    horizontal="",  # the geometry is the shape
    permanent=False,
)
RESTRICTION = {"REQ_AUTHORIZATION": "REQ_AUTHORISATION", "USPACE": None}
"""An ED-318 zone ``type`` as the restriction the site keeps (ED-269's spelling), where it differs."""


def validate(doc: Any) -> list[FieldError]:
    """Every place where ``doc`` breaks our schema of the format, by JSON path, in document order."""
    return geozone.schema_faults(_VALIDATOR, doc, SHAPES)


def read_doc(
    doc: Any, party: str, limits: Limits, window: tuple[float, float] | None
) -> tuple[list[Zone], list[FieldError]]:
    """The zones of a decoded ED-318 document as protected sites of ``party``, and every problem
    (its JSON path and why). ``window`` is the activation of zones without a period."""
    problems = validate(doc)
    if problems:
        return [], problems
    return geozone.read_zones(doc["features"], lambda f, path: _zone(f, path, party, limits, window))


def _zone(f: dict[str, Any], path: str, party: str, limits: Limits, window: tuple[float, float] | None) -> Zone:
    p = f["properties"]
    said: list[str] = []
    items = p.get("limitedApplicability")
    windows = geozone.read_windows(items, f"{path}.properties.limitedApplicability", window, said, LAYOUT)
    g = f["geometry"]
    parts = (
        [(f"geometry.geometries[{k}]", x) for k, x in enumerate(g["geometries"])]
        if g["type"] == "GeometryCollection"
        else [("geometry", g)]
    )
    shapes = [(where, _volume(x, f"{path}.{where}", limits, said)) for where, x in parts]
    site: dict[str, Any] = {"identifier": p["identifier"], "country": p["country"]}
    if "name" in p:
        site["name"] = p["name"] if isinstance(p["name"], str) else p["name"][0]["text"]
    restriction = RESTRICTION.get(p["type"], p["type"])
    if restriction is not None:
        site["restriction"] = restriction
    return geozone.build_zone(path, party, site, shapes, windows, LAYOUT, limits, said)


def _volume(v: dict[str, Any], path: str, limits: Limits, said: list[str]) -> dict[str, Any]:
    layer = v["layer"]
    refs = (layer["lowerReference"], layer["upperReference"])
    feet = str(layer.get("uom", "m")).lower() == "ft"
    limits_json = geozone.band(layer["lower"], layer["upper"], refs, feet, path, LAYOUT, limits, said)
    if v["type"] == "Point":
        if "extent" not in v:
            raise ValidationError.at(f"{path}.extent", "a point without a circle extent has no area: give extent")
        outline = geozone.circle(v["coordinates"], v["extent"]["radius"])
    else:
        outline = geozone.polygon(v["coordinates"], f"{path}.coordinates")
    return {**outline, **limits_json}
