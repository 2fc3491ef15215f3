"""Notices written as an AIXM 5.1 Digital NOTAM area activation (``SAA.ACT``) message, read back by
:func:`deconflict.formats.aixm.read_aixm` as the same notices.

One ``aixm:Airspace`` per notice (``aixm:name`` its id; ``gml:identifier`` a UUID derived from the
party and id, the same at every export), one ``TEMPDELTA`` time slice per volume (its window as
``gml:validTime``, ``aixm:activation`` ``ACTIVE``), and its volume: limits in metres MSL (to a
millimetre) or flight levels STD (to 1e-4 FL), a polygon as a ``gml:LinearRing`` ``posList`` in
``lat lon`` order (EPSG:4326, to 1e-9°, about 0.1 mm), a circle as a ``gml:CircleByCenterPoint``
with its radius in metres. No DTD and nothing but these elements: a draft for the publishing
authority to check and sign. Refused, naming the notice and volume: corridors and orbits (no
AIXM surface of ours), heights above the ellipsoid (W84) and recurring volumes (AIXM timesheets
are not written).
"""

from __future__ import annotations

import uuid
from xml.sax.saxutils import escape, quoteattr

from deconflict.domain.errors import ValidationError
from deconflict.domain.shapes import ShapeKind
from deconflict.domain.times import format_time
from deconflict.domain.volumes import Notice, Volume4D
from deconflict.formats.aixm import AIXM, EPSG_4326, EVENT, GML, MESSAGE
from deconflict.formats.altitude import FL_M

_NAMESPACE = uuid.UUID("0b6a4f1e-5f2c-4c8e-9a51-2d3e8c1f7a90")
"""Where the airspaces' identifiers are derived (uuid5 of ``party:id``)."""


def write_aixm(notices: list[Notice]) -> str:
    """Notices as an AIXM 5.1 ``AIXMBasicMessage`` of ``SAA.ACT`` activations (see the module)."""
    body: list[str] = []
    for i, n in enumerate(notices):
        ident = (n.id or f"notice-{i + 1}").removeprefix(n.party + ":")
        for j, v in enumerate(n.volumes):
            _check(n, i, j, v)
        body += _airspace(n, i, ident)
    head = (
        f'<message:AIXMBasicMessage xmlns:message="{MESSAGE}" xmlns:aixm="{AIXM}" xmlns:gml="{GML}" '
        f'xmlns:event="{EVENT}" gml:id="deconflict-message">'
    )
    return "\n".join(['<?xml version="1.0" encoding="UTF-8"?>', head, *body, "</message:AIXMBasicMessage>", ""])


def _check(n: Notice, i: int, j: int, v: Volume4D) -> None:
    where = f"{n.id or i}: volumes[{j}]"
    if v.altitude.reference.value == "W84":
        raise ValidationError.at(where, "a height above the ellipsoid (W84) has no form here (MSL or STD)")
    if v.shape.kind not in (ShapeKind.POLYGON, ShapeKind.CIRCLE):
        raise ValidationError.at(where, f"{v.shape.kind.value}: no AIXM surface here (only a polygon or a circle)")
    if v.schedule is not None:
        raise ValidationError.at(where, "a recurring volume has no form here (AIXM timesheets are not written)")


def _airspace(n: Notice, i: int, ident: str) -> list[str]:
    gid = f"a{i + 1}"
    out = [
        "  <message:hasMember>",
        f'    <aixm:Airspace gml:id="{gid}">',
        f'      <gml:identifier codeSpace="urn:uuid:">{uuid.uuid5(_NAMESPACE, f"{n.party}:{ident}")}</gml:identifier>',
    ]
    for j, v in enumerate(n.volumes):
        sid = f"{gid}-{j + 1}"
        out += [
            "      <aixm:timeSlice>",
            f'        <aixm:AirspaceTimeSlice gml:id="{sid}">',
            f'          <gml:validTime><gml:TimePeriod gml:id="{sid}-t">',
            f"            <gml:beginPosition>{format_time(v.time_start)}</gml:beginPosition>",
            f"            <gml:endPosition>{format_time(v.time_end)}</gml:endPosition>",
            "          </gml:TimePeriod></gml:validTime>",
            "          <aixm:interpretation>TEMPDELTA</aixm:interpretation>",
            f"          <aixm:sequenceNumber>{j + 1}</aixm:sequenceNumber>",
            f"          <aixm:type>{'P' if n.protected else 'TSA'}</aixm:type>",
            f"          <aixm:name>{escape(ident)}</aixm:name>",
            "          <aixm:geometryComponent>",
            f'            <aixm:AirspaceGeometryComponent gml:id="{sid}-g">',
            "              <aixm:operation>BASE</aixm:operation>",
            "              <aixm:operationSequence>1</aixm:operationSequence>",
            "              <aixm:theAirspaceVolume>",
            f'                <aixm:AirspaceVolume gml:id="{sid}-v">',
            *_limits(v),
            "                  <aixm:horizontalProjection>",
            f'                    <aixm:Surface gml:id="{sid}-s" srsName={quoteattr(EPSG_4326)}>',
            "                      <gml:patches><gml:PolygonPatch><gml:exterior>",
            f"                        {_ring(v, sid)}",
            "                      </gml:exterior></gml:PolygonPatch></gml:patches>",
            "                    </aixm:Surface>",
            "                  </aixm:horizontalProjection>",
            "                </aixm:AirspaceVolume>",
            "              </aixm:theAirspaceVolume>",
            "            </aixm:AirspaceGeometryComponent>",
            "          </aixm:geometryComponent>",
            "          <aixm:activation>",
            f'            <aixm:AirspaceActivation gml:id="{sid}-a">',
            f"              <aixm:activity>{'OTHER' if n.protected else 'MILOPS'}</aixm:activity>",
            "              <aixm:status>ACTIVE</aixm:status>",
            "            </aixm:AirspaceActivation>",
            "          </aixm:activation>",
            "        </aixm:AirspaceTimeSlice>",
            "      </aixm:timeSlice>",
        ]
    return [*out, "    </aixm:Airspace>", "  </message:hasMember>"]


def _limits(v: Volume4D) -> list[str]:
    pad = " " * 18
    if v.altitude.reference.value == "STD":
        lo, hi, uom, ref = f"{v.altitude.lower_m / FL_M:.4f}", f"{v.altitude.upper_m / FL_M:.4f}", "FL", "STD"
    else:
        lo, hi, uom, ref = f"{v.altitude.lower_m:.3f}", f"{v.altitude.upper_m:.3f}", "M", "MSL"
    return [
        f'{pad}<aixm:upperLimit uom="{uom}">{hi}</aixm:upperLimit>',
        f"{pad}<aixm:upperLimitReference>{ref}</aixm:upperLimitReference>",
        f'{pad}<aixm:lowerLimit uom="{uom}">{lo}</aixm:lowerLimit>',
        f"{pad}<aixm:lowerLimitReference>{ref}</aixm:lowerLimitReference>",
    ]


def _ring(v: Volume4D, sid: str) -> str:
    if v.shape.kind is ShapeKind.CIRCLE:
        lat, lon = v.shape.points[0]
        return (
            f'<gml:Ring><gml:curveMember><gml:Curve gml:id="{sid}-c"><gml:segments><gml:CircleByCenterPoint numArc="1">'
            f'<gml:pos>{lat:.9f} {lon:.9f}</gml:pos><gml:radius uom="M">{v.shape.buffer_m:.3f}</gml:radius>'
            "</gml:CircleByCenterPoint></gml:segments></gml:Curve></gml:curveMember></gml:Ring>"
        )
    pts = [*v.shape.points, v.shape.points[0]]  # a LinearRing is closed: its last position is its first
    return f"<gml:LinearRing><gml:posList>{' '.join(f'{a:.9f} {b:.9f}' for a, b in pts)}</gml:posList></gml:LinearRing>"
