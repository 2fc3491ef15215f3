"""Airspace formats over the API: import an ACO, OpenAir or NOTAM file as the caller's notices, and
export the caller's own notices in those formats, or what it may see as GeoJSON or KML.

An import takes the file's text as the request body (``text/plain``, UTF-8) and files every notice
of it as the caller, in one transaction, exactly as ``POST /v1/notices`` files one (or, with
``site=true``, as ``POST /v1/protected-sites`` does): the same roles, the same probe budget, the
same disclosure of conflicts, log events and receipts. A file with a record that cannot be read
files nothing (422, every record named by line, set and field) unless ``keep_good=true`` asks for
the records read whole; a refusal of any one notice by the broker files none.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import Field

from deconflict.api.deps import BrokerDep, Caller
from deconflict.api.schemas_out import Error, FieldReason, Filing, Out
from deconflict.domain.errors import FieldError, ValidationError
from deconflict.domain.parse import notice_to_json
from deconflict.domain.parties import Party, Role
from deconflict.domain.volumes import PROTECTED_SITE_KIND, Notice
from deconflict.formats.aco import read_aco
from deconflict.formats.aco_export import AcoExportError, write_aco
from deconflict.formats.aco_levels import LevelRules
from deconflict.formats.gis import to_kml
from deconflict.formats.notam import NotamChange, read_notam_file, write_notam_drafts
from deconflict.formats.openair import Imported, parse_instant, read_openair
from deconflict.formats.openair_write import write_openair
from deconflict.services.broker import Broker, Forbidden
from deconflict.services.filing_batch import file_all
from deconflict.services.gis_views import visible_collection
from deconflict.services.notam_changes import apply_notams

router = APIRouter(tags=["formats"])

TEXT = "text/plain"
GEOJSON = "application/geo+json"
KML = "application/vnd.google-earth.kml+xml"


class ImportedNotice(Out):
    lines: list[int] = Field(description="The lines of the file the notice was read from (one per volume).")
    rules_applied: list[str] = Field(description="Each explicit rule the reader applied (SFC, UNL, …).")
    filing: Filing = Field(description="The filing's answer, as `POST /v1/notices` gives it.")


class ImportResult(Out):
    filed: list[ImportedNotice] = Field(description="Every notice filed, in the file's order.")
    skipped: list[FieldReason] = Field(
        description="With `keep_good=true`: each record that could not be read (line, set, field) and why."
    )


@dataclass(frozen=True)
class _Read:
    """A file read: its notices (with their lines and rules) and every problem, located."""

    notices: list[Notice]
    lines: list[tuple[int, ...]]
    said: list[tuple[str, ...]]
    problems: list[FieldError]
    whole: bool = True
    """False when nothing of the file is good whatever the records (an ACO's header is wrong)."""
    notams: list[Imported | NotamChange] | None = None
    """A NOTAM file's records in order (NOTAMN, NOTAMR, NOTAMC), applied instead of filing notices."""


def _text_body(example: str, what: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "description": f"The {what} file's text, UTF-8.",
            "content": {TEXT: {"schema": {"type": "string", "minLength": 1}, "example": example}},
        }
    }


async def _body_text(request: Request) -> str:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != TEXT:
        raise ValidationError.at("Content-Type", f"must be {TEXT} (the file's text), not {kind or 'missing'!r}")
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError.at("body", "is not UTF-8 text") from None
    if not text.strip():
        raise ValidationError.at("body", "is empty: send the file's text")
    if "\x00" in text:
        raise ValidationError.at("body", "contains a NUL character")
    return text


def _may_file(caller: Party, site: bool) -> None:
    """The roles of ``POST /v1/notices`` and ``/v1/protected-sites``, checked before the file is read."""
    if site and not caller.role.files_sites:
        raise Forbidden(f"only an authority files protected sites; {caller.name!r} is {caller.role.a}")
    if not caller.role.files_notices:
        raise Forbidden(f"{caller.role.a} does not file notices")


def _file(broker: Broker, caller: Party, read: _Read, site: bool, keep_good: bool) -> JSONResponse:
    if read.problems and (not keep_good or not read.whole):
        why = "the message's header is wrong" if not read.whole else "keep_good=true files the records read whole"
        raise ValidationError(
            [*read.problems, FieldError("body", f"{len(read.problems)} problem(s); nothing filed ({why})")]
        )
    if not read.lines:
        raise ValidationError.at("body", "holds no record to file")
    try:
        if read.notams is not None:
            replies = apply_notams(broker, caller, read.notams, site)
        else:
            replies = file_all(broker, caller, [notice_to_json(n) for n in read.notices], site=site)
    except ValidationError as e:
        raise ValidationError([_located(x, read) for x in e.errors]) from None
    filed = [
        {"lines": list(lines), "rules_applied": list(said), "filing": r.body}
        for r, lines, said in zip(replies, read.lines, read.said, strict=True)
    ]
    skipped = [{"field": p.path, "reason": p.reason} for p in read.problems]
    return JSONResponse({"filed": filed, "skipped": skipped}, status_code=201)


def _located(e: FieldError, read: _Read) -> FieldError:
    """A broker refusal of the ``i``-th notice (``[i].volumes[k].field``) named by the file's line."""
    m = re.fullmatch(r"\[(\d+)\]\.?(?:volumes\[(\d+)\]\.?)?(.*)", e.path)
    if m is None or int(m[1]) >= len(read.lines):
        return e
    lines = read.lines[int(m[1])]
    line = lines[int(m[2])] if m[2] is not None and int(m[2]) < len(lines) else lines[0]
    return FieldError(f"line {line}, {m[3] or 'record'}", f"{e.reason} (nothing filed)")


def _problems(problems: list[Any]) -> list[FieldError]:
    """Readers' problems (line, set or field, reason) as the API's field errors."""
    out = []
    for p in problems:
        where = f"line {p.line}"
        if getattr(p, "set", ""):
            where += f", set {p.set}"
        if p.field:
            where += f", field {p.field}"
        out.append(FieldError(where, p.reason))
    return out


SiteQuery = Annotated[
    bool, Query(description="File each record as a protected site (an authority only), as /v1/protected-sites.")
]
KeepGoodQuery = Annotated[
    bool, Query(description="File the records read whole even when others cannot be read (they are listed).")
]
IMPORTED = "Every notice filed (each as `POST /v1/notices` answers), with the lines it came from."
BAD_FILE = "A record that cannot be read (each named by line, set and field), or a notice the broker refuses."

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
NOTAM_EXAMPLE = """(A0412/15 NOTAMN
Q) OSTT/QRTCA/IV/BO/W/000/150/3524N03557E005
A) OSTT B) 1509300600 C) 1509301800
E) TEMPORARY RESTRICTED AREA ACTIVATED AROUND HMEIMIM.
F) SFC G) FL150)
"""


def _import_route(path: str, what: str, example: str, doc: str) -> Callable[[Any], Any]:
    return router.post(
        path,
        status_code=201,
        summary=f"File the records of {what} file as your notices",
        description=doc + " All are filed in one transaction, or none.",
        openapi_extra=_text_body(example, what),
        response_model=None,
        responses={
            201: {"description": IMPORTED, "model": ImportResult},
            422: {"description": BAD_FILE, "model": Error},
        },
    )


@_import_route(
    "/imports/aco",
    "an ACO",
    ACO_EXAMPLE,
    "An Airspace Control Order (ADatP-3 / APP-11 text): each measure one notice (docs/formats.md). `SFC` and "
    "`UNL` are read only by the rule you give (`surface_m`, `unlimited_fl`). The `AMPN` text and the `ACM` type "
    "are not kept over the API (a filed notice has no field for them).",
)
async def import_aco(
    request: Request,
    caller: Caller,
    broker: BrokerDep,
    site: SiteQuery = False,
    keep_good: KeepGoodQuery = False,
    surface_m: Annotated[
        float | None, Query(description="Read SFC as this height (m) in the band's other reference.")
    ] = None,
    unlimited_fl: Annotated[float | None, Query(description="Read UNL as this flight level.")] = None,
) -> JSONResponse:
    _may_file(caller, site)
    text = await _body_text(request)
    got = read_aco(text, caller.name, broker.limits, LevelRules(surface_m=surface_m, unlimited_fl=unlimited_fl))
    lines: list[tuple[int, ...]] = [(line,) for line in got.lines]
    read = _Read(list(got.notices), lines, [()] * len(lines), _problems(got.problems), got.header_ok)
    return await _run(broker, caller, read, site, keep_good)


@_import_route(
    "/imports/openair",
    "an OpenAir",
    OPENAIR_EXAMPLE,
    "OpenAir airspace (docs/formats.md): records with the same `AI` are one notice; each record is active in "
    "its `AA` windows, or else from `start` to `end`.",
)
async def import_openair(
    request: Request,
    caller: Caller,
    broker: BrokerDep,
    site: SiteQuery = False,
    keep_good: KeepGoodQuery = False,
    start: Annotated[str | None, Query(description="RFC 3339: activation start of records without AA.")] = None,
    end: Annotated[str | None, Query(description="RFC 3339: activation end of records without AA.")] = None,
) -> JSONResponse:
    _may_file(caller, site)
    window = _window(start, end)
    text = await _body_text(request)
    kind = PROTECTED_SITE_KIND if site else "activity"
    imported, problems = read_openair(text, caller.name, kind, window, broker.limits)
    read = _Read(
        [i.notice for i in imported], [i.lines for i in imported], [i.said for i in imported], _problems(problems)
    )
    return await _run(broker, caller, read, site, keep_good)


@_import_route(
    "/imports/notam",
    "a NOTAM",
    NOTAM_EXAMPLE,
    "ICAO NOTAMs (docs/formats.md): each NOTAMN one notice, the Q-line's circle, `B)` to `C)`, the band of "
    "`F)`/`G)` or of the Q-line; a NOTAMR updates the notice filed from the NOTAM it names, a NOTAMC ends it.",
)
async def import_notam(
    request: Request,
    caller: Caller,
    broker: BrokerDep,
    site: SiteQuery = False,
    keep_good: KeepGoodQuery = False,
) -> JSONResponse:
    _may_file(caller, site)
    text = await _body_text(request)
    kind = PROTECTED_SITE_KIND if site else "activity"
    records, problems = read_notam_file(text, caller.name, kind, broker.limits)
    lines: list[tuple[int, ...]] = [r.lines if isinstance(r, Imported) else (r.line,) for r in records]
    said = [r.said if isinstance(r, Imported) else _change_said(r) for r in records]
    read = _Read([], lines, said, _problems(problems), notams=records)
    return await _run(broker, caller, read, site, keep_good)


def _change_said(r: NotamChange) -> tuple[str, ...]:
    if r.replacement is None:
        return (f"NOTAMC: ends the notice filed from {r.names.replace('-', '/')}",)
    return (f"NOTAMR: replaces the volumes of the notice filed from {r.names.replace('-', '/')}", *r.replacement.said)


async def _run(broker: Broker, caller: Party, read: _Read, site: bool, keep_good: bool) -> JSONResponse:
    from starlette.concurrency import run_in_threadpool  # the store's calls never block the event loop

    return await run_in_threadpool(_file, broker, caller, read, site, keep_good)


def _window(start: str | None, end: str | None) -> tuple[float, float] | None:
    if (start is None) != (end is None):
        raise ValidationError.at("query.start" if start is None else "query.end", "start and end go together")
    if start is None or end is None:
        return None
    bounds = []
    for name, value in (("start", start), ("end", end)):
        try:
            bounds.append(parse_instant(value))
        except ValueError as e:
            raise ValidationError.at(f"query.{name}", str(e)) from None
    if bounds[1] <= bounds[0]:
        raise ValidationError.at("query.end", "must be after start")
    return bounds[0], bounds[1]


# ---------------------------------------------------------------- exports


def _own_live(broker: Broker, caller: Party) -> list[Notice]:
    """The caller's own live notices and sites (the admin: every one), oldest id first."""
    party = None if caller.role is Role.ADMIN else caller.name
    with broker.store.begin(write=False) as repo:
        found = [n for n in repo.list_notices(party=party) if n.state.is_live]
    return sorted(found, key=lambda n: str(n.id))


def _text(example: str, what: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": what, "content": {TEXT: {"schema": {"type": "string"}, "example": example}}}}


def _plain(text: str) -> PlainTextResponse:
    return PlainTextResponse(text, media_type=TEXT)


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
    try:
        text = write_aco(_own_live(broker, caller), operation, originator or caller.name, aco_id or caller.name)
    except AcoExportError as e:
        raise ValidationError.at("notices", str(e)) from None
    return _plain(text)


@router.get(
    "/exports/openair",
    summary="Your live notices as OpenAir",
    description="For crews' flight-bag tools: one record per volume (docs/formats.md). Corridors, orbits and W84 "
    "heights have no OpenAir form: 422 naming the notice and volume, nothing written.",
    response_class=PlainTextResponse,
    responses=_text(OPENAIR_EXAMPLE, "The OpenAir file."),
)
def export_openair(caller: Caller, broker: BrokerDep) -> Response:
    return _plain(write_openair(_own_live(broker, caller)))


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
    notice: Annotated[str | None, Query(description="Only this notice of yours (its id).", max_length=300)] = None,
) -> Response:
    notices = _own_live(broker, caller)
    if notice is not None:
        notices = [n for n in notices if n.id == notice]
        if not notices:
            raise ValidationError.at("query.notice", "no live notice of yours has this id")
    return _plain(write_notam_drafts(notices, fir, location or fir, broker.limits.min_altitude_m))


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
