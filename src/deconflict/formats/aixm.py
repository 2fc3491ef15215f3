"""AIXM 5.1 Digital NOTAM area activations (``SAA.ACT``) in, as notices or protected sites.

An ``AIXMBasicMessage`` (XML, parsed with :mod:`defusedxml`: no DTD, no entities, no external
references) whose ``hasMember`` elements are ``aixm:Airspace`` features (``event:Event`` members are
passed over; one whose ``scenario`` is not ``SAA.ACT`` is refused). Each airspace is one notice (its
id: ``aixm:name``, else ``aixm:designator``, else ``gml:identifier``); each of its
``AirspaceTimeSlice``\\ s gives a volume for each ``geometryComponent``, active in the slice's
``gml:validTime`` ``TimePeriod`` (``beginPosition`` to ``endPosition``).

What is read (anything else in these places is refused, naming the element's path and why):

- ``aixm:activation/aixm:AirspaceActivation`` with ``aixm:status`` ``ACTIVE`` (the slice is an
  activation); an activation with ``aixm:timeInterval`` (a timesheet) or ``aixm:levels`` is refused;
- ``aixm:AirspaceVolume`` ``upperLimit``/``lowerLimit`` with ``uom`` ``FL``, ``FT`` or ``M`` and
  ``upperLimitReference``/``lowerLimitReference`` ``STD`` (flight levels) or ``MSL``; ``GND`` as a
  floor and ``UNL`` as a ceiling, and a ``SFC`` reference only for 0 (the surface), by the same
  rules as OpenAir and NOTAM limits (:mod:`deconflict.formats.altitude`); any other height above
  the surface is refused;
- ``aixm:horizontalProjection/aixm:Surface/gml:patches/gml:PolygonPatch/gml:exterior`` holding a
  ``gml:LinearRing`` ``gml:posList`` or a ``gml:Ring`` whose one curve's one segment is a
  ``gml:CircleByCenterPoint`` (``gml:pos``, ``gml:radius`` in ``M``, ``KM``, ``NM`` or ``FT``).
  Coordinates are ``lat lon`` in that order, as EPSG:4326 defines its axes (the AIXM 5.1 default
  ``srsName``); a ``Surface`` in any other CRS, holes (``gml:interior``), arcs and other curve
  segments are refused.
"""

from __future__ import annotations

import math
import re
from typing import Any

from deconflict.domain.errors import ValidationError
from deconflict.domain.notice_json import parse_notice
from deconflict.domain.policy import Limits
from deconflict.domain.times import format_time
from deconflict.formats import Problem
from deconflict.formats.aixm_xml import BadElement, XmlDoc, XmlError, XmlNode, local_name, parse_xml
from deconflict.formats.altitude import FT_M, Alt, band
from deconflict.formats.openair import NM_M, Imported, parse_instant

AIXM = "http://www.aixm.aero/schema/5.1"
GML = "http://www.opengis.net/gml/3.2"
MESSAGE = "http://www.aixm.aero/schema/5.1/message"
EVENT = "http://www.aixm.aero/schema/5.1/event"
EPSG_4326 = "urn:ogc:def:crs:EPSG::4326"
_CRS_4326 = {EPSG_4326, "EPSG:4326", "http://www.opengis.net/def/crs/EPSG/0/4326", "urn:ogc:def:crs:EPSG:6.9:4326"}
_RADIUS_M = {"M": 1.0, "KM": 1000.0, "NM": NM_M, "FT": FT_M}
_SLICE_KEPT = {"validTime", "geometryComponent", "activation"}
_SLICE_PASSED = {
    "interpretation", "sequenceNumber", "correctionNumber", "featureLifetime", "type", "designator",
    "localType", "name", "designatorICAO", "controlType", "upperLowerSeparation", "class", "annotation",
    "extension",
}  # fmt: skip
"""What an airspace's time slice may hold that says nothing of where or when (passed over)."""
_VOLUME_KEPT = {
    "upperLimit", "upperLimitReference", "lowerLimit", "lowerLimitReference", "horizontalProjection", "annotation",
    "extension",
}  # fmt: skip


def read_aixm(text: str, party: str, kind: str, limits: Limits | None = None) -> tuple[list[Imported], list[Problem]]:
    """The ``aixm:Airspace`` activations of an AIXM 5.1 message as notices of ``party`` (``kind``:
    ``activity`` or ``protected-site``), and every problem found (line, element path, reason).
    Notices are validated exactly as filed JSON is."""
    limits = limits or Limits()
    try:
        root, lines = parse_xml(text)
    except XmlError as e:
        return [], [Problem(e.line, "document", str(e))]
    doc = XmlDoc(lines)
    top = doc.node(root, local_name(root.tag)[1])
    if local_name(root.tag) != (MESSAGE, "AIXMBasicMessage"):
        ns, name = local_name(root.tag)
        return [], [
            Problem(top.line, top.path, f"the root must be message:AIXMBasicMessage ({MESSAGE}), not {{{ns}}}{name}")
        ]
    out: list[Imported] = []
    problems: list[Problem] = []
    for member in doc.children(top):
        try:
            if local_name(member.e.tag) != (MESSAGE, "hasMember"):
                if local_name(member.e.tag)[1] in ("boundedBy", "name", "description", "identifier", "sequenceNumber"):
                    continue
                raise BadElement(member.line, member.path, "not read: a message holds hasMember elements")
            features = list(doc.children(member))
            if len(features) != 1:
                raise BadElement(member.line, member.path, f"holds {len(features)} features, not 1")
            f = features[0]
            if local_name(f.e.tag) == (EVENT, "Event"):
                _check_event(doc, f)
                continue
            if local_name(f.e.tag) != (AIXM, "Airspace"):
                raise BadElement(f.line, f.path, "not read: only aixm:Airspace (and event:Event) members are")
            out.append(_airspace(doc, f, party, kind, limits))
        except BadElement as e:
            problems.append(e.problem)
    problems.sort(key=lambda p: p.line)
    return out, problems


def _check_event(doc: XmlDoc, f: XmlNode) -> None:
    """A Digital NOTAM event: only an area activation (``SAA.ACT``) is read from this file."""
    for s in f.e.iter(f"{{{EVENT}}}scenario"):
        if (s.text or "").strip() != "SAA.ACT":
            n = doc.node(s, f"{f.path}/…/scenario")
            raise BadElement(
                n.line, n.path, f"{(s.text or '').strip()!r}: only SAA.ACT (area activation) events are read"
            )


def _airspace(doc: XmlDoc, f: XmlNode, party: str, kind: str, limits: Limits) -> Imported:
    slices = [c for c in doc.children(f) if local_name(c.e.tag) == (AIXM, "timeSlice")]
    if not slices:
        raise BadElement(f.line, f"{f.path}/timeSlice", "missing: an airspace activation is in its time slice")
    ident = None
    volumes: list[dict[str, Any]] = []
    lines: list[int] = []
    paths: list[str] = []
    said: list[str] = []
    for s in slices:
        ts = doc.need(s, AIXM, "AirspaceTimeSlice")
        for c in doc.children(ts):
            ns, name = local_name(c.e.tag)
            if name not in _SLICE_KEPT | _SLICE_PASSED or ns not in (AIXM, GML):
                raise BadElement(c.line, c.path, "not read here (docs/formats.md lists what an activation may hold)")
        ident = ident or _ident(doc, f, ts)
        _activation(doc, ts)
        start, end = _period(doc, ts)
        parts = [c for c in doc.children(ts) if local_name(c.e.tag) == (AIXM, "geometryComponent")]
        if not parts:
            raise BadElement(ts.line, f"{ts.path}/geometryComponent", "missing: the activated area's volume")
        for g in parts:
            vol, rules = _volume(doc, g, limits)
            volumes.append({"volume": vol, "time_start": start, "time_end": end})
            lines.append(g.line)
            paths.append(g.path)
            said += [r for r in rules if r not in said]
    if ident is None:
        raise BadElement(f.line, f.path, "no aixm:name, aixm:designator or gml:identifier to name the notice")
    doc_ = {"party": party, "id": ident, "kind": kind, "volumes": volumes}
    try:
        notice = parse_notice(doc_, limits)
    except ValidationError as e:  # named by the geometry component the volume came from
        x = e.errors[0]
        m = re.match(r"volumes\[(\d+)\]\.?(.*)", x.path)
        if m is None:
            raise BadElement(f.line, f"{f.path}: {x.path}", x.reason) from None
        k = int(m[1])
        raise BadElement(lines[k], f"{paths[k]}: {m[2].removeprefix('volume.')}", x.reason) from None
    return Imported(notice, tuple(lines), tuple(said))


def _ident(doc: XmlDoc, f: XmlNode, ts: XmlNode) -> str | None:
    for ns, name, where in ((AIXM, "name", ts), (AIXM, "designator", ts), (GML, "identifier", f)):
        n = doc.one(where, ns, name, optional=True)
        if n is not None and (n.e.text or "").strip():
            return (n.e.text or "").strip()
    return None


def _activation(doc: XmlDoc, ts: XmlNode) -> None:
    acts = [c for c in doc.children(ts) if local_name(c.e.tag) == (AIXM, "activation")]
    if not acts:
        raise BadElement(
            ts.line, f"{ts.path}/activation", "missing: an SAA.ACT slice activates the area (status ACTIVE)"
        )
    for a in acts:
        act = doc.need(a, AIXM, "AirspaceActivation")
        for c in doc.children(act):
            name = local_name(c.e.tag)[1]
            if name == "timeInterval":
                raise BadElement(c.line, c.path, "a timesheet is not supported: give each window its own time slice")
            if name == "levels":
                raise BadElement(
                    c.line, c.path, "activation levels are not supported: give the AirspaceVolume's limits"
                )
        node, status = doc.text(act, AIXM, "status")
        if status != "ACTIVE":
            raise BadElement(node.line, node.path, f"{status!r}: only an activation (ACTIVE) is read")


def _period(doc: XmlDoc, ts: XmlNode) -> tuple[dict[str, str], dict[str, str]]:
    period = doc.need(doc.need(ts, GML, "validTime"), GML, "TimePeriod")
    bounds = []
    for name in ("beginPosition", "endPosition"):
        node, text = doc.text(period, GML, name)
        if node.e.get("indeterminatePosition") is not None or not text:
            raise BadElement(node.line, node.path, "must be a time: an open or unknown end is not read (give the end)")
        try:
            bounds.append(parse_instant(text))
        except ValueError as e:
            raise BadElement(node.line, node.path, str(e)) from None
    if bounds[1] <= bounds[0]:
        raise BadElement(period.line, f"{period.path}/endPosition", "must be after beginPosition")
    return tuple({"value": format_time(t), "format": "RFC3339"} for t in bounds)  # type: ignore[return-value]


def _volume(doc: XmlDoc, g: XmlNode, limits: Limits) -> tuple[dict[str, Any], list[str]]:
    comp = doc.need(g, AIXM, "AirspaceGeometryComponent")
    for c in doc.children(comp):
        name = local_name(c.e.tag)[1]
        if name == "operation" and (c.e.text or "").strip() not in ("BASE", "UNION"):
            raise BadElement(c.line, c.path, f"{(c.e.text or '').strip()!r}: only BASE or UNION (no subtraction)")
    vol = doc.need(doc.need(comp, AIXM, "theAirspaceVolume"), AIXM, "AirspaceVolume")
    for c in doc.children(vol):
        if local_name(c.e.tag)[1] not in _VOLUME_KEPT:
            raise BadElement(
                c.line, c.path, "not supported here (a volume is read from its limits and horizontalProjection)"
            )
    lo, lo_node = _limit(doc, vol, "lower")
    hi, hi_node = _limit(doc, vol, "upper")
    try:
        lower, upper, rules = band(lo, hi, limits, ("lowerLimit", "upperLimit"))
    except ValueError as e:
        where, _, reason = str(e).partition(": ")
        node = lo_node if where == "lowerLimit" else hi_node
        raise BadElement(node.line, node.path, reason) from None
    outline = _outline(doc, doc.need(vol, AIXM, "horizontalProjection"))
    return {**outline, "altitude_lower": lower, "altitude_upper": upper}, rules


def _limit(doc: XmlDoc, vol: XmlNode, which: str) -> tuple[Alt, XmlNode]:
    node, text = doc.text(vol, AIXM, f"{which}Limit")
    ref_node, ref = doc.text(vol, AIXM, f"{which}LimitReference")
    uom = node.e.get("uom", "")
    if text in ("GND", "UNL"):
        if (text == "GND") != (which == "lower"):
            raise BadElement(node.line, node.path, f"{text} cannot be {'a floor' if text == 'UNL' else 'a ceiling'}")
        return Alt("sfc" if text == "GND" else "unl"), node
    try:
        value = float(text)
    except ValueError:
        raise BadElement(node.line, node.path, f"{text!r} is not a number (or GND, UNL)") from None
    if not math.isfinite(value):
        raise BadElement(node.line, node.path, f"{text!r} is not a finite number")
    if uom not in ("FL", "FT", "M"):
        raise BadElement(node.line, f"{node.path}@uom", f"{uom!r}: must be FL, FT or M")
    if ref == "STD":
        if uom != "FL":
            raise BadElement(node.line, f"{node.path}@uom", f"{uom!r}: a STD limit is a flight level (uom FL)")
        return Alt("fl", value), node
    if ref == "MSL":
        if uom == "FL":
            raise BadElement(node.line, f"{node.path}@uom", "a flight level is referenced to STD, not MSL")
        return Alt("amsl", value * (FT_M if uom == "FT" else 1.0)), node
    if ref == "SFC":
        if value == 0:
            return Alt("sfc"), node
        raise BadElement(
            ref_node.line, ref_node.path, "a height above the surface needs terrain data the broker does not have"
        )
    raise BadElement(ref_node.line, ref_node.path, f"{ref!r}: must be STD or MSL (or SFC for 0)")


def _outline(doc: XmlDoc, proj: XmlNode) -> dict[str, Any]:
    surface = doc.need(proj, AIXM, "Surface")
    for n in doc.below(surface):  # GML lets any geometry element name its own CRS: each must be lat lon
        srs = n.e.get("srsName")
        if srs is not None and srs not in _CRS_4326:
            raise BadElement(n.line, f"{n.path}@srsName", f"{srs!r}: only EPSG:4326 (lat lon) is read")
        _dimension(n)
    patches = [c for c in doc.children(doc.need(surface, GML, "patches"))]
    if len(patches) != 1 or local_name(patches[0].e.tag) != (GML, "PolygonPatch"):
        where = patches[0] if patches else surface
        raise BadElement(where.line, where.path, "one gml:PolygonPatch is read (no other patch, no several)")
    patch = patches[0]
    for c in doc.children(patch):
        if local_name(c.e.tag)[1] == "interior":
            raise BadElement(c.line, c.path, "a hole is not supported: give the area without it")
    exterior = doc.need(patch, GML, "exterior")
    rings = list(doc.children(exterior))
    if len(rings) != 1:
        raise BadElement(exterior.line, exterior.path, "must hold one gml:LinearRing or gml:Ring")
    ring = rings[0]
    if local_name(ring.e.tag) == (GML, "LinearRing"):
        pos_node, text = doc.text(ring, GML, "posList")
        _dimension(pos_node)
        pts = _numbers(pos_node, text)
        if len(pts) % 2:
            raise BadElement(pos_node.line, pos_node.path, f"{len(pts)} numbers: lat lon pairs need an even count")
        vertices = [{"lat": pts[i], "lng": pts[i + 1]} for i in range(0, len(pts), 2)]
        return {"outline_polygon": {"vertices": vertices}}
    if local_name(ring.e.tag) != (GML, "Ring"):
        raise BadElement(ring.line, ring.path, "must be a gml:LinearRing or gml:Ring")
    curve = doc.need(doc.need(ring, GML, "curveMember"), GML, "Curve")
    segments = list(doc.children(doc.need(curve, GML, "segments")))
    if len(segments) != 1 or local_name(segments[0].e.tag) != (GML, "CircleByCenterPoint"):
        bad = next((s for s in segments if local_name(s.e.tag) != (GML, "CircleByCenterPoint")), curve)
        raise BadElement(
            bad.line, bad.path, "only one gml:CircleByCenterPoint is read in a ring (arcs and lines: give a LinearRing)"
        )
    circle = segments[0]
    if circle.e.get("numArc", "1") != "1":
        raise BadElement(circle.line, f"{circle.path}@numArc", "a whole circle has numArc 1")
    pos_node, text = doc.text(circle, GML, "pos")
    _dimension(pos_node)
    centre = _numbers(pos_node, text)
    if len(centre) != 2:
        raise BadElement(pos_node.line, pos_node.path, f"{text!r}: must be lat lon")
    r_node, r_text = doc.text(circle, GML, "radius")
    uom = r_node.e.get("uom", "")
    if uom not in _RADIUS_M:
        raise BadElement(r_node.line, f"{r_node.path}@uom", f"{uom!r}: must be M, KM, NM or FT")
    radius = _numbers(r_node, r_text)
    if len(radius) != 1:
        raise BadElement(r_node.line, r_node.path, f"{r_text!r}: must be one number")
    return {
        "outline_circle": {
            "center": {"lat": centre[0], "lng": centre[1]},
            "radius": {"value": radius[0] * _RADIUS_M[uom], "units": "M"},
        }
    }


def _dimension(n: XmlNode) -> None:
    if n.e.get("srsDimension", "2") != "2":
        raise BadElement(n.line, f"{n.path}@srsDimension", "only 2 (lat lon) is read")


def _numbers(n: XmlNode, text: str) -> list[float]:
    try:
        out = [float(x) for x in text.split()]
    except ValueError:
        raise BadElement(n.line, n.path, "must be numbers separated by spaces") from None
    if not out or not all(math.isfinite(x) for x in out):
        raise BadElement(n.line, n.path, "must be finite numbers")
    return out
