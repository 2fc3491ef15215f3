"""Airspace formats over the API: import an ACO, OpenAir, NOTAM, AIXM or ED-269 file as the caller's
notices, and export the caller's own notices in those formats, or what it may see as GeoJSON or KML.

An import takes the file's text as the request body (``text/plain``, UTF-8; AIXM also as
``application/xml``) and files every notice
of it as the caller, in one transaction, exactly as ``POST /v1/notices`` files one (or, with
``site=true``, as ``POST /v1/protected-sites`` does): the same roles, the same probe budget, the
same disclosure of conflicts, log events and receipts. A file with a record that cannot be read
files nothing (422, every record named by line, set and field) unless ``keep_good=true`` asks for
the records read whole; a refusal of any one notice by the broker files none.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from pydantic.json_schema import SkipJsonSchema
from starlette.concurrency import run_in_threadpool  # reading a file and the store's calls never block the event loop

from deconflict.api import formats_export
from deconflict.api.deps import BrokerDep, Caller
from deconflict.api.formats_export import (
    ACO_EXAMPLE,
    AIXM_EXAMPLE,
    GEOZONES_EXAMPLE,
    NOTAM_EXAMPLE,
    OPENAIR_EXAMPLE,
    TEXT,
    XML,
)
from deconflict.api.schemas_out import Error, FieldReason, Filing, Out
from deconflict.domain.errors import FieldError, ValidationError
from deconflict.domain.notice_json import notice_to_json
from deconflict.domain.parties import Party
from deconflict.domain.volumes import PROTECTED_SITE_KIND, Notice
from deconflict.formats.aco import read_aco
from deconflict.formats.aco_levels import LevelRules
from deconflict.formats.aixm import read_aixm
from deconflict.formats.geozone import Zone
from deconflict.formats.geozones import read_geozones
from deconflict.formats.notam import NotamChange, read_notam_file
from deconflict.formats.openair import Imported, parse_instant, read_openair
from deconflict.services.broker import Broker, Forbidden
from deconflict.services.commands import parse_file_notices
from deconflict.services.filing_batch import file_all
from deconflict.services.notam_changes import apply_notams

router = APIRouter(tags=["formats"])
router.include_router(formats_export.router)  # the exports: one router for the app to include


class ImportedNotice(Out):
    lines: list[int] = Field(description="The lines of the file the notice was read from (one per volume).")
    rules_applied: list[str] = Field(description="Each explicit rule the reader applied (SFC, UNL, …).")
    filing: Filing = Field(description="The filing's answer, as `POST /v1/notices` gives it.")
    zone: str | SkipJsonSchema[None] = Field(
        default=None,
        description="Geozones (ED-269, ED-318) only: the zone's JSON path in the document (`features[0]`).",
    )


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
    zones: list[Zone] | None = None
    """A geozone document's zones: named by JSON path, not by line."""


def _text_body(example: str, what: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "description": f"The {what} file's text, UTF-8.",
            "content": {TEXT: {"schema": {"type": "string", "minLength": 1}, "example": example}},
        }
    }


async def _body_text(request: Request, also: tuple[str, ...] = ()) -> str:
    """The request's body as the file's text: ``text/plain`` (or one of ``also``), UTF-8."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != TEXT and kind not in also:
        which = " or ".join((TEXT, *also))
        raise ValidationError.at("Content-Type", f"must be {which} (the file's text), not {kind or 'missing'!r}")
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
    if read.problems and (not keep_good or not read.whole or not read.lines):
        why = "keep_good=true files the records read whole"
        why = "the message's header is wrong" if not read.whole else why if read.lines else "no record is whole"
        raise ValidationError(
            [*read.problems, FieldError("body", f"{len(read.problems)} problem(s); nothing filed ({why})")]
        )
    if not read.lines:
        raise ValidationError.at("body", "holds no record to file")
    try:
        if read.notams is not None:
            replies = apply_notams(broker, caller, read.notams, site)
        else:
            bodies = [notice_to_json(n) for n in read.notices]
            replies = file_all(broker, parse_file_notices(caller, bodies, broker.limits, site=site))
    except ValidationError as e:
        raise ValidationError([_located(x, read) for x in e.errors]) from None
    filed = [
        {"lines": list(lines), "rules_applied": list(said), "filing": r.body}
        for r, lines, said in zip(replies, read.lines, read.said, strict=True)
    ]
    for f, z in zip(filed, read.zones or [], strict=False):
        f["zone"] = z.path
    skipped = [{"field": p.path, "reason": p.reason} for p in read.problems]
    return JSONResponse({"filed": filed, "skipped": skipped}, status_code=201)


def _located(e: FieldError, read: _Read) -> FieldError:
    """A broker refusal of the ``i``-th notice (``[i].volumes[k].field``) named by the file's line."""
    m = re.fullmatch(r"\[(\d+)\]\.?(?:volumes\[(\d+)\]\.?)?(.*)", e.path)
    if m is None or int(m[1]) >= len(read.lines):
        return e
    if read.zones is not None:
        z = read.zones[int(m[1])].locate(FieldError(e.path.partition("]")[2].lstrip("."), e.reason))
        return FieldError(z.path, f"{z.reason} (nothing filed)")
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
    rules = LevelRules(surface_m=surface_m, unlimited_fl=unlimited_fl)
    got = await run_in_threadpool(read_aco, text, caller.name, broker.limits, rules)
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
    imported, problems = await run_in_threadpool(read_openair, text, caller.name, kind, window, broker.limits)
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
    records, problems = await run_in_threadpool(read_notam_file, text, caller.name, kind, broker.limits)
    lines: list[tuple[int, ...]] = [r.lines if isinstance(r, Imported) else (r.line,) for r in records]
    said = [r.said if isinstance(r, Imported) else _change_said(r) for r in records]
    read = _Read([], lines, said, _problems(problems), notams=records)
    return await _run(broker, caller, read, site, keep_good)


def _change_said(r: NotamChange) -> tuple[str, ...]:
    if r.replacement is None:
        return (f"NOTAMC: ends the notice filed from {r.names.replace('-', '/')}",)
    return (f"NOTAMR: replaces the volumes of the notice filed from {r.names.replace('-', '/')}", *r.replacement.said)


@_import_route(
    "/imports/aixm",
    "an AIXM 5.1",
    AIXM_EXAMPLE,
    "AIXM 5.1 Digital NOTAM area activations (`SAA.ACT`, docs/formats.md), sent as `text/plain` or "
    "`application/xml`: each `aixm:Airspace` one notice, each time slice's volumes (status `ACTIVE`) active in its "
    "`validTime`; polygons as `gml:LinearRing` `posList` (lat lon, EPSG:4326) and `gml:CircleByCenterPoint` circles. "
    "Every element that cannot be read is named by its path and line; a DTD or entities refuse the whole file.",
)
async def import_aixm(
    request: Request,
    caller: Caller,
    broker: BrokerDep,
    site: SiteQuery = False,
    keep_good: KeepGoodQuery = False,
) -> JSONResponse:
    _may_file(caller, site)
    text = await _body_text(request, (XML, "text/xml"))
    kind = PROTECTED_SITE_KIND if site else "activity"
    imported, problems = await run_in_threadpool(read_aixm, text, caller.name, kind, broker.limits)
    read = _Read(
        [i.notice for i in imported], [i.lines for i in imported], [i.said for i in imported], _problems(problems)
    )
    return await _run(broker, caller, read, site, keep_good)


@_import_route(
    "/imports/geozones",
    "an ED-269 or ED-318 geozone",
    GEOZONES_EXAMPLE,
    "UAS geographical zones (ED-269 JSON, or ED-318's GeoJSON FeatureCollection, sent as its text) as your "
    "protected sites (an authority only), checked against our JSON Schema of its format: every fault by its JSON "
    "path (docs/formats.md). Permanent zones are active from `start` to `end`; `schedule` items are recurring "
    "volumes.",
)
async def import_geozones(
    request: Request,
    caller: Caller,
    broker: BrokerDep,
    keep_good: KeepGoodQuery = False,
    start: Annotated[str | None, Query(description="RFC 3339: activation start of permanent zones.")] = None,
    end: Annotated[str | None, Query(description="RFC 3339: activation end of permanent zones.")] = None,
) -> JSONResponse:
    _may_file(caller, True)
    window = _window(start, end)
    text = await _body_text(request)
    zones, problems = await run_in_threadpool(read_geozones, text, caller.name, broker.limits, window)
    read = _Read([z.notice for z in zones], [()] * len(zones), [z.said for z in zones], problems, zones=zones)
    return await _run(broker, caller, read, True, keep_good)


async def _run(broker: Broker, caller: Party, read: _Read, site: bool, keep_good: bool) -> JSONResponse:
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
