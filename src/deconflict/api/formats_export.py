"""The exports of the airspace formats over the API: the caller's own live notices as an ACO,
OpenAir or NOTAM drafts, and what it may see as GeoJSON or KML (cut exactly as the JSON API cuts
it). Part of :mod:`deconflict.api.formats`' router."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from deconflict.api.deps import BrokerDep, Caller
from deconflict.domain.errors import ValidationError
from deconflict.domain.parties import Party, Role
from deconflict.domain.volumes import Notice
from deconflict.formats.aco_acmreq import write_acmreq
from deconflict.formats.aco_export import AcoExportError, write_aco
from deconflict.formats.aixm_write import write_aixm
from deconflict.formats.ed269 import write_geozones
from deconflict.formats.ed269_schema import SCHEMA
from deconflict.formats.gis import to_kml
from deconflict.formats.notam import write_notam_drafts
from deconflict.formats.openair_write import write_openair
from deconflict.services.broker import Broker
from deconflict.services.gis_views import visible_collection

router = APIRouter(tags=["formats"])

TEXT = "text/plain"
GEOJSON = "application/geo+json"
KML = "application/vnd.google-earth.kml+xml"
XML = "application/xml"

ACO_EXAMPLE = """OPER/INHERENT RESOLVE//
MSGID/ACO/CAOC//
GEODATUM/WGE//
PERIOD/300400ZSEP2015/301600ZSEP2015//
ACMID/ACM:ROZ/NAME:RAQQA/CIRCLE/USE:CAP//
CIRCLE/LATM:3557N03901E/RADIUS:15NM//
EFFLEVEL/FLFL:FL200-FL300//
"""
OPENAIR_EXAMPLE = """AC Q
AN HMEIMIM TRA
AI hmeimim-tra
AL SFC
AH FL150
AA 2015-09-30T06:00Z/2015-09-30T18:00Z
V X=35:24:00 N 035:57:00 E
DC 5
"""
GEOZONES_EXAMPLE = json.dumps(
    {
        "features": [
            {
                "identifier": "OSH001",
                "country": "SYR",
                "type": "COMMON",
                "restriction": "PROHIBITED",
                "applicability": [{"startDateTime": "2015-09-30T06:00:00Z", "endDateTime": "2015-09-30T18:00:00Z"}],
                "geometry": [
                    {
                        "uomDimensions": "M",
                        "lowerLimit": 0,
                        "lowerVerticalReference": "AMSL",
                        "upperLimit": 1500,
                        "upperVerticalReference": "AMSL",
                        "horizontalProjection": {"type": "Circle", "center": [35.95, 35.4], "radius": 5000},
                    }
                ],
            }
        ]
    },
    indent=1,
)
NOTAM_EXAMPLE = """(A0412/15 NOTAMN
Q) OSTT/QRTCA/IV/BO/W/000/150/3524N03557E005
A) OSTT B) 1509300600 C) 1509301800
E) TEMPORARY RESTRICTED AREA ACTIVATED AROUND HMEIMIM.
F) SFC G) FL150)
"""


AIXM_EXAMPLE = """<?xml version="1.0" encoding="UTF-8"?>
<message:AIXMBasicMessage xmlns:message="http://www.aixm.aero/schema/5.1/message"
  xmlns:aixm="http://www.aixm.aero/schema/5.1" xmlns:gml="http://www.opengis.net/gml/3.2" gml:id="m1">
 <message:hasMember><aixm:Airspace gml:id="a1"><aixm:timeSlice><aixm:AirspaceTimeSlice gml:id="a1-1">
  <gml:validTime><gml:TimePeriod gml:id="a1-1-t"><gml:beginPosition>2015-09-30T06:00:00Z</gml:beginPosition>
   <gml:endPosition>2015-09-30T18:00:00Z</gml:endPosition></gml:TimePeriod></gml:validTime>
  <aixm:interpretation>TEMPDELTA</aixm:interpretation><aixm:name>HMEIMIM-TRA</aixm:name>
  <aixm:geometryComponent><aixm:AirspaceGeometryComponent gml:id="a1-1-g"><aixm:theAirspaceVolume>
   <aixm:AirspaceVolume gml:id="a1-1-v">
    <aixm:upperLimit uom="FL">150</aixm:upperLimit><aixm:upperLimitReference>STD</aixm:upperLimitReference>
    <aixm:lowerLimit uom="FL">50</aixm:lowerLimit><aixm:lowerLimitReference>STD</aixm:lowerLimitReference>
    <aixm:horizontalProjection><aixm:Surface gml:id="a1-1-s" srsName="urn:ogc:def:crs:EPSG::4326">
     <gml:patches><gml:PolygonPatch><gml:exterior><gml:LinearRing>
      <gml:posList>35.30 35.80 35.30 36.10 35.55 36.10 35.55 35.80 35.30 35.80</gml:posList>
     </gml:LinearRing></gml:exterior></gml:PolygonPatch></gml:patches>
    </aixm:Surface></aixm:horizontalProjection>
   </aixm:AirspaceVolume></aixm:theAirspaceVolume></aixm:AirspaceGeometryComponent></aixm:geometryComponent>
  <aixm:activation><aixm:AirspaceActivation gml:id="a1-1-a"><aixm:status>ACTIVE</aixm:status>
  </aixm:AirspaceActivation></aixm:activation>
 </aixm:AirspaceTimeSlice></aixm:timeSlice></aixm:Airspace></message:hasMember>
</message:AIXMBasicMessage>
"""


def _own_live(broker: Broker, caller: Party) -> list[Notice]:
    """The caller's own live notices and sites (the admin: every one), oldest id first: the store
    as the operator reads it, narrowed to the caller (an export never holds another party's notice)."""
    party = None if caller.role is Role.ADMIN else caller.name
    return sorted(broker.operator.notices(party, live=True), key=lambda n: str(n.id))


def _text(example: str, what: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": what, "content": {TEXT: {"schema": {"type": "string"}, "example": example}}}}


def _written(write: Callable[[], str], at: str = "notices", media_type: str = TEXT) -> Response:
    """What a writer writes, as the answer; what it cannot write (an :class:`AcoExportError`) is a
    422 naming ``at`` (a writer's :class:`ValidationError` names the notice and volume itself)."""
    try:
        text = write()
    except AcoExportError as e:
        raise ValidationError.at(at, str(e)) from None
    return Response(text, media_type=media_type)


NoticeQuery = Annotated[str | None, Query(description="Only this notice of yours (its id).", max_length=300)]
NAME = r"^[A-Za-z0-9._-](?:[A-Za-z0-9 ._-]{0,58}[A-Za-z0-9._-])?$"
"""An ACO field written by the caller: no '/', no line break, no edge spaces."""


@router.get(
    "/exports/aco",
    summary="Your live notices as an ACO",
    description="One measure per notice (one APERIOD per volume), figures rounded outward (docs/formats.md). "
    "An empty ACO (header only) when you have none. W84 heights have no ACO form: 422 naming the notice.",
    response_class=PlainTextResponse,
    responses=_text(ACO_EXAMPLE, "The ACO message."),
)
def export_aco(
    caller: Caller,
    broker: BrokerDep,
    operation: Annotated[str, Query(description="The OPER set.", pattern=NAME)] = "DECONFLICT",
    originator: Annotated[str | None, Query(description="MSGID originator (default: you).", pattern=NAME)] = None,
    aco_id: Annotated[str | None, Query(description="The ACOID set (default: you).", pattern=NAME)] = None,
) -> Response:
    notices = _own_live(broker, caller)
    return _written(lambda: write_aco(notices, operation, originator or caller.name, aco_id or caller.name))


ACMREQ_EXAMPLE = """OPER/DECONFLICT//
MSGID/ACMREQ/uk-raf//
GEODATUM/WGE//
PERIOD/301036ZSEP2015/301336ZSEP2015//
ACMID/ACM:ROZ/NAME:raf-cap/CIRCLE/USE:ACTIVITY//
CIRCLE/LATS:351912.00N0363712.00E/RADIUS:8000M//
EFFLEVEL/RARA:3000MMSL-8000MMSL//
APERIOD/DISCRETE/301036ZSEP2015/301336ZSEP2015//
AMPN/DRAFT: MEASURE MOVED 186 MIN LATER TO CLEAR DECONFLICT CONFLICT cbb9ade9d98a440ab8db75dcc660c813; NOT FILED: \
CHECKED AGAIN WHEN FILED//
"""


@router.get(
    "/exports/acmreq",
    summary="A conflict's resolution as an ACMREQ draft",
    description="Your side of the conflict moved by the smallest `shift` (later, earlier, up or down) that alone "
    "clears it, as an ACMREQ message for your own chain: nothing is filed or moved, and the moved notice is checked "
    "again when you file it. Only a side of the conflict asks (403 otherwise); a protected site does not move (422); "
    "the shift tells where the other notice ends, so it is given only when you see that notice whole (a coalition "
    "partner, a full disclosure rule, a protected site), else 403 as a filing's hints are withheld. 422 naming "
    "`query.shift` when no such shift within the theater's bounds clears it.",
    response_class=PlainTextResponse,
    responses=_text(ACMREQ_EXAMPLE, "The ACMREQ draft."),
)
def export_acmreq(
    caller: Caller,
    broker: BrokerDep,
    conflict: Annotated[str, Query(description="The conflict's id (GET /v1/conflicts).", min_length=1, max_length=200)],
    shift: Annotated[Literal["later", "earlier", "up", "down"], Query(description="Which way to move.")] = "later",
    operation: Annotated[str, Query(description="The OPER set.", pattern=NAME)] = "DECONFLICT",
) -> Response:
    try:
        r = broker.resolution_of(caller, conflict)
    except ValidationError as e:
        raise e.prefixed("query") from None
    return _written(
        lambda: write_acmreq(r.notice, r.hints, r.conflict_id, shift, caller.name, operation), "query.shift"
    )


@router.get(
    "/exports/openair",
    summary="Your live notices as OpenAir",
    description="For crews' flight-bag tools: one record per volume (docs/formats.md). Corridors, orbits and W84 "
    "heights have no OpenAir form: 422 naming the notice and volume, nothing written.",
    response_class=PlainTextResponse,
    responses=_text(OPENAIR_EXAMPLE, "The OpenAir file."),
)
def export_openair(caller: Caller, broker: BrokerDep) -> Response:
    notices = _own_live(broker, caller)
    return _written(lambda: write_openair(notices))


@router.get(
    "/exports/notam",
    summary="Your live notices as NOTAMN drafts",
    description="One draft per volume, for a person to number, complete and issue: the Q-line's circle and flight "
    "levels enclose the volume, F)/G) state the band (docs/formats.md).",
    response_class=PlainTextResponse,
    responses=_text(NOTAM_EXAMPLE, "The drafts."),
)
def export_notam(
    caller: Caller,
    broker: BrokerDep,
    fir: Annotated[str, Query(description="The Q-line's FIR (4 capital letters).", pattern="^[A-Z]{4}$")],
    location: Annotated[str | None, Query(description="Item A) (default: the FIR).", pattern="^[A-Z]{4}$")] = None,
    notice: NoticeQuery = None,
) -> Response:
    notices = _own_one(broker, caller, notice)
    return _written(lambda: write_notam_drafts(notices, fir, location or fir, broker.limits.min_altitude_m))


def _own_one(broker: Broker, caller: Party, notice: str | None) -> list[Notice]:
    """The caller's own live notices, or only the one named ``notice`` (422 when it names none)."""
    notices = _own_live(broker, caller)
    if notice is not None:
        notices = [n for n in notices if n.id == notice]
        if not notices:
            raise ValidationError.at("query.notice", "no live notice of yours has this id")
    return notices


@router.get(
    "/exports/aixm",
    summary="Your live notices as an AIXM 5.1 activation message",
    description="An AIXM 5.1 `AIXMBasicMessage` of Digital NOTAM area activations (`SAA.ACT`): one `aixm:Airspace` "
    "per notice, one time slice per volume (its window as `gml:validTime`, activation `ACTIVE`), polygons as "
    "`gml:LinearRing` in lat lon order (EPSG:4326) and circles as `gml:CircleByCenterPoint` (docs/formats.md); "
    "`POST /v1/imports/aixm` reads it back as the same notices. Corridors, orbits, W84 heights and recurring volumes "
    "have no form here: 422 naming the notice and volume, nothing written.",
    response_class=Response,
    responses={
        200: {
            "description": "The AIXM 5.1 message.",
            "content": {XML: {"schema": {"type": "string"}, "example": AIXM_EXAMPLE}},
        }
    },
)
def export_aixm(caller: Caller, broker: BrokerDep, notice: NoticeQuery = None) -> Response:
    notices = _own_one(broker, caller, notice)
    return _written(lambda: write_aixm(notices), media_type=XML)


AllQuery = Annotated[bool, Query(alias="all", description="Resolved conflicts too (default: open ones only).")]
SEEN = (
    "What you may see, exactly as the JSON API shows it: your notices, every protected site, others' notices only "
    "at `full` disclosure, and your conflicts' slices exact, on the grid or coarse as disclosed (docs/formats.md)."
)


@router.get(
    "/exports/geojson",
    summary="What you may see, as GeoJSON",
    description=SEEN + " A FeatureCollection; each feature's `layer` is `notice`, `site` or `conflict`.",
    response_class=Response,
    responses={
        200: {"description": "A GeoJSON FeatureCollection.", "content": {GEOJSON: {"schema": {"type": "object"}}}}
    },
)
def export_geojson(caller: Caller, broker: BrokerDep, all_: AllQuery = False) -> Response:
    body = json.dumps(visible_collection(broker, caller, all_), indent=1) + "\n"
    return Response(body, media_type=GEOJSON)


@router.get(
    "/exports/kml",
    summary="What you may see, as KML",
    description=SEEN + " KML 2.2, outlines on the ground, each feature's properties as its description.",
    response_class=Response,
    responses={200: {"description": "A KML 2.2 document.", "content": {KML: {"schema": {"type": "string"}}}}},
)
def export_kml(caller: Caller, broker: BrokerDep, all_: AllQuery = False) -> Response:
    return Response(to_kml(visible_collection(broker, caller, all_), caller.name), media_type=KML)


GEOZONES = {k: v for k, v in SCHEMA.items() if k != "$schema"}
"""Our schema of an ED-269 document, as the export's response schema (what we write passes it)."""


@router.get(
    "/exports/geozones",
    summary="Your live protected sites as ED-269 geozones",
    description="One zone per site (docs/formats.md): limits in metres, AMSL or WGS84, one applicability window "
    "per window. Corridors, orbits and flight levels have no ED-269 form: 422 naming the site.",
    response_model=None,
    responses={200: {"description": "An ED-269 document.", "content": {"application/json": {"schema": GEOZONES}}}},
)
def export_geozones(
    caller: Caller,
    broker: BrokerDep,
    country: Annotated[str, Query(description="ISO 3166 alpha-3 country of the zones.", pattern="^[A-Z]{3}$")],
) -> JSONResponse:
    sites = [n for n in _own_live(broker, caller) if n.protected]
    return JSONResponse(write_geozones(sites, country))
