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
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from deconflict.domain.errors import ValidationError
from deconflict.domain.notice_json import parse_notice
from deconflict.domain.policy import Limits
from deconflict.domain.times import format_time
from deconflict.formats import Problem
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


class _Bad(Exception):
    def __init__(self, line: int, path: str, reason: str) -> None:
        self.problem = Problem(line, path, reason)


class _Lines(TreeBuilder):
    """A tree builder that notes the line each element starts on (for the problems' locations)."""

    def __init__(self) -> None:
        super().__init__()
        self.parser: DefusedXMLParser | None = None
        self.lines: dict[int, int] = {}
        self.kept: list[Element] = []  # ids stay valid while the elements live

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        e = super().start(tag, attrs)
        self.kept.append(e)
        self.lines[id(e)] = self.parser.parser.CurrentLineNumber if self.parser is not None else 0
        return e


@dataclass(frozen=True)
class _Node:
    """An element with its path from the root (``hasMember[2]/Airspace/timeSlice[1]/…``) and line."""

    e: Element
    path: str
    line: int


def _local(tag: str) -> tuple[str, str]:
    ns, _, name = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    return ns, name


class _Doc:
    def __init__(self, lines: dict[int, int]) -> None:
        self.lines = lines

    def node(self, e: Element, path: str) -> _Node:
        return _Node(e, path, self.lines.get(id(e), 0))

    def children(self, n: _Node) -> Iterator[_Node]:
        """Each child element, its path numbered when its name repeats (``geometryComponent[2]``)."""
        kids = list(n.e)
        names = [_local(k.tag)[1] for k in kids]
        count = Counter(names)  # once per parent: a document of many members is read in linear time
        seen: dict[str, int] = {}
        for k, name in zip(kids, names, strict=True):
            seen[name] = seen.get(name, 0) + 1
            step = f"{name}[{seen[name]}]" if count[name] > 1 else name
            yield self.node(k, f"{n.path}/{step}")

    def below(self, n: _Node) -> Iterator[_Node]:
        """``n`` and every element under it, with their paths."""
        yield n
        for c in self.children(n):
            yield from self.below(c)

    def one(self, n: _Node, ns: str, name: str, *, optional: bool = False) -> _Node | None:
        found = [c for c in self.children(n) if _local(c.e.tag) == (ns, name)]
        if len(found) > 1:
            raise _Bad(found[1].line, found[1].path, f"more than one {name}: only one is read here")
        if not found and not optional:
            raise _Bad(n.line, f"{n.path}/{name}", "missing")
        return found[0] if found else None

    def need(self, n: _Node, ns: str, name: str) -> _Node:
        found = self.one(n, ns, name)
        assert found is not None
        return found

    def text(self, n: _Node, ns: str, name: str) -> tuple[_Node, str]:
        c = self.need(n, ns, name)
        if len(c.e):
            raise _Bad(c.line, c.path, "must hold text, not elements")
        return c, (c.e.text or "").strip()


def parse_xml(text: str) -> tuple[Element, dict[int, int]]:
    """An XML document's root and the line of each element (by ``id``); refuses a DTD, entities and
    external references (:mod:`defusedxml`) with :class:`XmlError`."""
    lines = _Lines()
    parser = DefusedXMLParser(target=lines, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    lines.parser = parser
    try:
        parser.feed(text)
        root = parser.close()
    except ParseError as e:
        raise XmlError(e.position[0], f"not well-formed XML: {e}") from None
    except DefusedXmlException as e:
        line = parser.parser.CurrentLineNumber
        raise XmlError(line, f"refused: {e} (a DTD, entities and external references are not read)") from None
    return root, lines.lines


class XmlError(ValueError):
    """A document that is not XML, or that holds what is never read (a DTD, an entity), at ``line``."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line


def read_aixm(text: str, party: str, kind: str, limits: Limits | None = None) -> tuple[list[Imported], list[Problem]]:
    """The ``aixm:Airspace`` activations of an AIXM 5.1 message as notices of ``party`` (``kind``:
    ``activity`` or ``protected-site``), and every problem found (line, element path, reason).
    Notices are validated exactly as filed JSON is."""
    limits = limits or Limits()
    try:
        root, lines = parse_xml(text)
    except XmlError as e:
        return [], [Problem(e.line, "document", str(e))]
    doc = _Doc(lines)
    top = doc.node(root, _local(root.tag)[1])
    if _local(root.tag) != (MESSAGE, "AIXMBasicMessage"):
        ns, name = _local(root.tag)
        return [], [
            Problem(top.line, top.path, f"the root must be message:AIXMBasicMessage ({MESSAGE}), not {{{ns}}}{name}")
        ]
    out: list[Imported] = []
    problems: list[Problem] = []
    for member in doc.children(top):
        try:
            if _local(member.e.tag) != (MESSAGE, "hasMember"):
                if _local(member.e.tag)[1] in ("boundedBy", "name", "description", "identifier", "sequenceNumber"):
                    continue
                raise _Bad(member.line, member.path, "not read: a message holds hasMember elements")
            features = list(doc.children(member))
            if len(features) != 1:
                raise _Bad(member.line, member.path, f"holds {len(features)} features, not 1")
            f = features[0]
            if _local(f.e.tag) == (EVENT, "Event"):
                _check_event(doc, f)
                continue
            if _local(f.e.tag) != (AIXM, "Airspace"):
                raise _Bad(f.line, f.path, "not read: only aixm:Airspace (and event:Event) members are")
            out.append(_airspace(doc, f, party, kind, limits))
        except _Bad as e:
            problems.append(e.problem)
    problems.sort(key=lambda p: p.line)
    return out, problems


def _check_event(doc: _Doc, f: _Node) -> None:
    """A Digital NOTAM event: only an area activation (``SAA.ACT``) is read from this file."""
    for s in f.e.iter(f"{{{EVENT}}}scenario"):
        if (s.text or "").strip() != "SAA.ACT":
            n = doc.node(s, f"{f.path}/…/scenario")
            raise _Bad(n.line, n.path, f"{(s.text or '').strip()!r}: only SAA.ACT (area activation) events are read")


def _airspace(doc: _Doc, f: _Node, party: str, kind: str, limits: Limits) -> Imported:
    slices = [c for c in doc.children(f) if _local(c.e.tag) == (AIXM, "timeSlice")]
    if not slices:
        raise _Bad(f.line, f"{f.path}/timeSlice", "missing: an airspace activation is in its time slice")
    ident = None
    volumes: list[dict[str, Any]] = []
    lines: list[int] = []
    paths: list[str] = []
    said: list[str] = []
    for s in slices:
        ts = doc.need(s, AIXM, "AirspaceTimeSlice")
        for c in doc.children(ts):
            ns, name = _local(c.e.tag)
            if name not in _SLICE_KEPT | _SLICE_PASSED or ns not in (AIXM, GML):
                raise _Bad(c.line, c.path, "not read here (docs/formats.md lists what an activation may hold)")
        ident = ident or _ident(doc, f, ts)
        _activation(doc, ts)
        start, end = _period(doc, ts)
        parts = [c for c in doc.children(ts) if _local(c.e.tag) == (AIXM, "geometryComponent")]
        if not parts:
            raise _Bad(ts.line, f"{ts.path}/geometryComponent", "missing: the activated area's volume")
        for g in parts:
            vol, rules = _volume(doc, g, limits)
            volumes.append({"volume": vol, "time_start": start, "time_end": end})
            lines.append(g.line)
            paths.append(g.path)
            said += [r for r in rules if r not in said]
    if ident is None:
        raise _Bad(f.line, f.path, "no aixm:name, aixm:designator or gml:identifier to name the notice")
    doc_ = {"party": party, "id": ident, "kind": kind, "volumes": volumes}
    try:
        notice = parse_notice(doc_, limits)
    except ValidationError as e:  # named by the geometry component the volume came from
        x = e.errors[0]
        m = re.match(r"volumes\[(\d+)\]\.?(.*)", x.path)
        if m is None:
            raise _Bad(f.line, f"{f.path}: {x.path}", x.reason) from None
        k = int(m[1])
        raise _Bad(lines[k], f"{paths[k]}: {m[2].removeprefix('volume.')}", x.reason) from None
    return Imported(notice, tuple(lines), tuple(said))


def _ident(doc: _Doc, f: _Node, ts: _Node) -> str | None:
    for ns, name, where in ((AIXM, "name", ts), (AIXM, "designator", ts), (GML, "identifier", f)):
        n = doc.one(where, ns, name, optional=True)
        if n is not None and (n.e.text or "").strip():
            return (n.e.text or "").strip()
    return None


def _activation(doc: _Doc, ts: _Node) -> None:
    acts = [c for c in doc.children(ts) if _local(c.e.tag) == (AIXM, "activation")]
    if not acts:
        raise _Bad(ts.line, f"{ts.path}/activation", "missing: an SAA.ACT slice activates the area (status ACTIVE)")
    for a in acts:
        act = doc.need(a, AIXM, "AirspaceActivation")
        for c in doc.children(act):
            name = _local(c.e.tag)[1]
            if name == "timeInterval":
                raise _Bad(c.line, c.path, "a timesheet is not supported: give each window its own time slice")
            if name == "levels":
                raise _Bad(c.line, c.path, "activation levels are not supported: give the AirspaceVolume's limits")
        node, status = doc.text(act, AIXM, "status")
        if status != "ACTIVE":
            raise _Bad(node.line, node.path, f"{status!r}: only an activation (ACTIVE) is read")


def _period(doc: _Doc, ts: _Node) -> tuple[dict[str, str], dict[str, str]]:
    period = doc.need(doc.need(ts, GML, "validTime"), GML, "TimePeriod")
    bounds = []
    for name in ("beginPosition", "endPosition"):
        node, text = doc.text(period, GML, name)
        if node.e.get("indeterminatePosition") is not None or not text:
            raise _Bad(node.line, node.path, "must be a time: an open or unknown end is not read (give the end)")
        try:
            bounds.append(parse_instant(text))
        except ValueError as e:
            raise _Bad(node.line, node.path, str(e)) from None
    if bounds[1] <= bounds[0]:
        raise _Bad(period.line, f"{period.path}/endPosition", "must be after beginPosition")
    return tuple({"value": format_time(t), "format": "RFC3339"} for t in bounds)  # type: ignore[return-value]


def _volume(doc: _Doc, g: _Node, limits: Limits) -> tuple[dict[str, Any], list[str]]:
    comp = doc.need(g, AIXM, "AirspaceGeometryComponent")
    for c in doc.children(comp):
        name = _local(c.e.tag)[1]
        if name == "operation" and (c.e.text or "").strip() not in ("BASE", "UNION"):
            raise _Bad(c.line, c.path, f"{(c.e.text or '').strip()!r}: only BASE or UNION (no subtraction)")
    vol = doc.need(doc.need(comp, AIXM, "theAirspaceVolume"), AIXM, "AirspaceVolume")
    for c in doc.children(vol):
        if _local(c.e.tag)[1] not in _VOLUME_KEPT:
            raise _Bad(c.line, c.path, "not supported here (a volume is read from its limits and horizontalProjection)")
    lo, lo_node = _limit(doc, vol, "lower")
    hi, hi_node = _limit(doc, vol, "upper")
    try:
        lower, upper, rules = band(lo, hi, limits, ("lowerLimit", "upperLimit"))
    except ValueError as e:
        where, _, reason = str(e).partition(": ")
        node = lo_node if where == "lowerLimit" else hi_node
        raise _Bad(node.line, node.path, reason) from None
    outline = _outline(doc, doc.need(vol, AIXM, "horizontalProjection"))
    return {**outline, "altitude_lower": lower, "altitude_upper": upper}, rules


def _limit(doc: _Doc, vol: _Node, which: str) -> tuple[Alt, _Node]:
    node, text = doc.text(vol, AIXM, f"{which}Limit")
    ref_node, ref = doc.text(vol, AIXM, f"{which}LimitReference")
    uom = node.e.get("uom", "")
    if text in ("GND", "UNL"):
        if (text == "GND") != (which == "lower"):
            raise _Bad(node.line, node.path, f"{text} cannot be {'a floor' if text == 'UNL' else 'a ceiling'}")
        return Alt("sfc" if text == "GND" else "unl"), node
    try:
        value = float(text)
    except ValueError:
        raise _Bad(node.line, node.path, f"{text!r} is not a number (or GND, UNL)") from None
    if not math.isfinite(value):
        raise _Bad(node.line, node.path, f"{text!r} is not a finite number")
    if uom not in ("FL", "FT", "M"):
        raise _Bad(node.line, f"{node.path}@uom", f"{uom!r}: must be FL, FT or M")
    if ref == "STD":
        if uom != "FL":
            raise _Bad(node.line, f"{node.path}@uom", f"{uom!r}: a STD limit is a flight level (uom FL)")
        return Alt("fl", value), node
    if ref == "MSL":
        if uom == "FL":
            raise _Bad(node.line, f"{node.path}@uom", "a flight level is referenced to STD, not MSL")
        return Alt("amsl", value * (FT_M if uom == "FT" else 1.0)), node
    if ref == "SFC":
        if value == 0:
            return Alt("sfc"), node
        raise _Bad(
            ref_node.line, ref_node.path, "a height above the surface needs terrain data the broker does not have"
        )
    raise _Bad(ref_node.line, ref_node.path, f"{ref!r}: must be STD or MSL (or SFC for 0)")


def _outline(doc: _Doc, proj: _Node) -> dict[str, Any]:
    surface = doc.need(proj, AIXM, "Surface")
    for n in doc.below(surface):  # GML lets any geometry element name its own CRS: each must be lat lon
        srs = n.e.get("srsName")
        if srs is not None and srs not in _CRS_4326:
            raise _Bad(n.line, f"{n.path}@srsName", f"{srs!r}: only EPSG:4326 (lat lon) is read")
        _dimension(n)
    patches = [c for c in doc.children(doc.need(surface, GML, "patches"))]
    if len(patches) != 1 or _local(patches[0].e.tag) != (GML, "PolygonPatch"):
        where = patches[0] if patches else surface
        raise _Bad(where.line, where.path, "one gml:PolygonPatch is read (no other patch, no several)")
    patch = patches[0]
    for c in doc.children(patch):
        if _local(c.e.tag)[1] == "interior":
            raise _Bad(c.line, c.path, "a hole is not supported: give the area without it")
    exterior = doc.need(patch, GML, "exterior")
    rings = list(doc.children(exterior))
    if len(rings) != 1:
        raise _Bad(exterior.line, exterior.path, "must hold one gml:LinearRing or gml:Ring")
    ring = rings[0]
    if _local(ring.e.tag) == (GML, "LinearRing"):
        pos_node, text = doc.text(ring, GML, "posList")
        _dimension(pos_node)
        pts = _numbers(pos_node, text)
        if len(pts) % 2:
            raise _Bad(pos_node.line, pos_node.path, f"{len(pts)} numbers: lat lon pairs need an even count")
        vertices = [{"lat": pts[i], "lng": pts[i + 1]} for i in range(0, len(pts), 2)]
        return {"outline_polygon": {"vertices": vertices}}
    if _local(ring.e.tag) != (GML, "Ring"):
        raise _Bad(ring.line, ring.path, "must be a gml:LinearRing or gml:Ring")
    curve = doc.need(doc.need(ring, GML, "curveMember"), GML, "Curve")
    segments = list(doc.children(doc.need(curve, GML, "segments")))
    if len(segments) != 1 or _local(segments[0].e.tag) != (GML, "CircleByCenterPoint"):
        bad = next((s for s in segments if _local(s.e.tag) != (GML, "CircleByCenterPoint")), curve)
        raise _Bad(
            bad.line, bad.path, "only one gml:CircleByCenterPoint is read in a ring (arcs and lines: give a LinearRing)"
        )
    circle = segments[0]
    if circle.e.get("numArc", "1") != "1":
        raise _Bad(circle.line, f"{circle.path}@numArc", "a whole circle has numArc 1")
    pos_node, text = doc.text(circle, GML, "pos")
    _dimension(pos_node)
    centre = _numbers(pos_node, text)
    if len(centre) != 2:
        raise _Bad(pos_node.line, pos_node.path, f"{text!r}: must be lat lon")
    r_node, r_text = doc.text(circle, GML, "radius")
    uom = r_node.e.get("uom", "")
    if uom not in _RADIUS_M:
        raise _Bad(r_node.line, f"{r_node.path}@uom", f"{uom!r}: must be M, KM, NM or FT")
    radius = _numbers(r_node, r_text)
    if len(radius) != 1:
        raise _Bad(r_node.line, r_node.path, f"{r_text!r}: must be one number")
    return {
        "outline_circle": {
            "center": {"lat": centre[0], "lng": centre[1]},
            "radius": {"value": radius[0] * _RADIUS_M[uom], "units": "M"},
        }
    }


def _dimension(n: _Node) -> None:
    if n.e.get("srsDimension", "2") != "2":
        raise _Bad(n.line, f"{n.path}@srsDimension", "only 2 (lat lon) is read")


def _numbers(n: _Node, text: str) -> list[float]:
    try:
        out = [float(x) for x in text.split()]
    except ValueError:
        raise _Bad(n.line, n.path, "must be numbers separated by spaces") from None
    if not out or not all(math.isfinite(x) for x in out):
        raise _Bad(n.line, n.path, "must be finite numbers")
    return out
