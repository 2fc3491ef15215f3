"""Notices and protected sites: file, read, update, activate, end, cancel.

A notice is information, never permission: the broker records and compares what parties declare;
it does not verify it and approves nothing.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response

from deconflict.api.deps import (
    PAGING,
    Body,
    BrokerDep,
    Caller,
    CursorQuery,
    LimitQuery,
    outcome_response,
    page_of_texts,
    parse_json,
)
from deconflict.api.examples import NOTICE_EXAMPLE, SITE_EXAMPLE
from deconflict.api.schemas import NoticeBody, NoticeUpdateBody, request_body
from deconflict.api.schemas_out import Error, Filing, NoticeWithReceipt, StoredNotice
from deconflict.domain.errors import FieldError, ValidationError
from deconflict.domain.parse import parse_feature
from deconflict.domain.policy import Limits
from deconflict.domain.shapes import ShapeKind, ShapeLimits, make_shape
from deconflict.domain.volumes import NoticeState
from deconflict.services.broker import NoticeFilter, parse_time_param
from deconflict.services.commands import parse_file_notice, parse_update_notice

FILED = (
    "The stored notice (id, version, state, received time), its lead time and late flag (lead time under the "
    "theater's minimum notice is recorded, never refused), its conflicts as the caller may see them (with the "
    "overlapping slice), resolution hints, and the broker's signed receipt."
)


AREA_LIMITS = Limits(shape=ShapeLimits(max_vertices=10_000, max_extent_m=4_000_000))
"""A query area may be larger than a volume: up to about 4000 km across."""


def parse_bbox(text: str) -> Any:
    parts = text.split(",")
    try:
        west, south, east, north = (float(p) for p in parts)
    except ValueError:
        raise ValidationError.at("bbox", "must be four numbers: west,south,east,north (degrees)") from None
    if not (-90 <= south < north <= 90) or not (-180 <= west <= 180 and -180 <= east <= 180) or west == east:
        raise ValidationError.at("bbox", "must be west,south,east,north with south < north, in degree ranges")
    if east < west:  # across the antimeridian
        east += 360
    pts = [(south, west), (south, east), (north, east), (north, west)]
    pts = [(la, ((lo + 180) % 360) - 180) for la, lo in pts]
    return make_shape(ShapeKind.POLYGON, pts, limits=AREA_LIMITS.shape, points_path="bbox")


def parse_area(text: str) -> Any:
    geom = parse_json(text, "area")
    if not isinstance(geom, dict) or geom.get("type") not in ("Polygon", "Point"):
        raise ValidationError.at("area", "must be a GeoJSON Polygon or Point geometry")
    # A query area is a volume's footprint without altitude or time: borrow the feature parser.
    feature = {
        "type": "Feature",
        "geometry": geom,
        "properties": {
            **({"radius": {"value": 1, "units": "M"}} if geom.get("type") == "Point" else {}),
            "altitude_lower": {"value": 0, "reference": "W84", "units": "M"},
            "altitude_upper": {"value": 1, "reference": "W84", "units": "M"},
            "time_start": {"value": "1970-01-01T00:00:00Z", "format": "RFC3339"},
            "time_end": {"value": "1970-01-02T00:00:00Z", "format": "RFC3339"},
        },
    }
    try:
        return parse_feature(feature, AREA_LIMITS, "area").shape
    except ValidationError as e:
        raise ValidationError(
            [FieldError(err.path.replace("area.geometry.", "area."), err.reason) for err in e.errors]
        ) from None


def router(site: bool) -> APIRouter:
    what = "protected site" if site else "notice"
    path = "/protected-sites" if site else "/notices"
    tag = "protected sites" if site else "notices"
    r = APIRouter(prefix=path, tags=[tag])
    example = SITE_EXAMPLE if site else NOTICE_EXAMPLE

    @r.post(
        "",
        status_code=201,
        summary=f"File a {what}",
        description=(
            "Filed by an `authority`; checked against every notice of every party, and every notice is checked "
            "against it. " + FILED
            if site
            else "Filed by a `party` or `authority` for itself. " + FILED
        )
        + " An `Idempotency-Key` header makes a retried POST safe: the same key and body return the first "
        "response (with `Idempotent-Replayed: true`); the same key with another body is refused.",
        openapi_extra=request_body(NoticeBody, example),
        responses={
            201: {"description": FILED, "model": Filing},
            422: {"description": "Bad input: the field and the reason.", "model": Error},
        },
    )
    def file_notice(
        caller: Caller,
        broker: BrokerDep,
        body: Body,
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    ) -> JSONResponse:
        cmd = parse_file_notice(caller, body, broker.limits, site=site, idempotency_key=idempotency_key)
        return outcome_response(broker.file(cmd))

    @r.get(
        "",
        summary=f"List {what}s you may see",
        description="Your own, your coalition's and those a `full` disclosure rule shows you"
        + ("; protected sites are public." if site else ". Others are seen only through their conflicts with you.")
        + " Oldest filed first, in pages: "
        + PAGING,
        response_model=list[StoredNotice],
    )
    def list_notices(
        request: Request,
        caller: Caller,
        broker: BrokerDep,
        bbox: Annotated[str | None, Query(description="west,south,east,north in degrees")] = None,
        area: Annotated[str | None, Query(description="A GeoJSON Polygon or Point geometry (URL-encoded)")] = None,
        start: Annotated[
            str | None,
            Query(
                description="RFC 3339: only notices ending at or after (default: the broker's now, unless `state` "
                "is given; `start=1970-01-01T00:00:00Z` lists the past too)"
            ),
        ] = None,
        end: Annotated[str | None, Query(description="RFC 3339: only notices starting at or before")] = None,
        party: Annotated[str | None, Query()] = None,
        state: Annotated[NoticeState | None, Query()] = None,
        cursor: CursorQuery = None,
        limit: LimitQuery = 1000,
    ) -> Response:
        if bbox is not None and area is not None:
            raise ValidationError.at("area", "give bbox or area, not both")
        shape = parse_bbox(bbox) if bbox is not None else parse_area(area) if area is not None else None
        t0, t1 = parse_time_param("start", start), parse_time_param("end", end)
        if t0 is None and state is None:  # by default what is current or to come, not the past
            t0 = broker.clock()
        f = NoticeFilter(party=party, state=state, time_start=t0, time_end=t1, area=shape, protected=site)
        texts, next_cursor = broker.list_notice_texts(caller, f, cursor, limit)
        return page_of_texts(request, texts, next_cursor)

    @r.get(
        "/{notice_id}",
        summary=f"Get a {what}",
        description=f"The {what} whole, as stored (volumes, version, state, `received_at`); its owner and the admin "
        "also get its signed receipt. 404 when it does not exist or you may not see it (the same answer)."
        + ("" if site else " Another party's notice is visible only at `full` (coalition, or a rule)."),
        response_model=None,
        responses={200: {"model": NoticeWithReceipt}},
    )
    def get_notice(caller: Caller, broker: BrokerDep, notice_id: str) -> dict[str, Any]:
        return broker.get_notice(caller, notice_id, site)

    @r.put(
        "/{notice_id}",
        summary=f"Replace a {what}'s volumes",
        description="Only the owner. The body names the version it replaces (`replaces_version`, or an `If-Match: "
        '"N"` header); 409 when another change came first. ' + FILED,
        openapi_extra=request_body(NoticeUpdateBody, {"replaces_version": 1, **example}),
        responses={
            200: {"model": Filing},
            409: {"description": "Stale version: fetch the notice again and re-apply your change.", "model": Error},
        },
    )
    def update_notice(
        caller: Caller,
        broker: BrokerDep,
        notice_id: str,
        body: Body,
        if_match: Annotated[
            str | None,
            Header(
                description='The version this update replaces, as an entity tag: `"3"`, `3` or `W/"3"`.',
                json_schema_extra={"pattern": IF_MATCH},
            ),
        ] = None,
    ) -> JSONResponse:
        version = _version(if_match)
        cmd = parse_update_notice(caller, notice_id, body, broker.limits, replaces_version=version, site=site)
        return outcome_response(broker.update(cmd))

    def _state(state: NoticeState, verb: str, doc: str) -> None:
        @r.post(
            f"/{{notice_id}}/{verb}",
            summary=f"{verb.capitalize()} a {what}",
            description=doc,
            responses={200: {"model": Filing}},
        )
        def change(
            caller: Caller,
            broker: BrokerDep,
            notice_id: str,
            replaces_version: Annotated[int | None, Query(ge=1)] = None,
        ) -> JSONResponse:
            return outcome_response(broker.set_state(caller, notice_id, state, replaces_version, site))

        change.__name__ = f"{verb}_{'site' if site else 'notice'}"

    _state(NoticeState.ACTIVE, "activate", "The owner says the activity is under way.")
    _state(NoticeState.ENDED, "end", "The owner says the activity is over; its open conflicts are resolved.")

    @r.delete(
        "/{notice_id}",
        summary=f"Cancel a {what}",
        description="Only the owner; its open conflicts are resolved. The notice and its history stay in the log.",
        responses={200: {"model": Filing}},
    )
    def cancel_notice(
        caller: Caller,
        broker: BrokerDep,
        notice_id: str,
        replaces_version: Annotated[int | None, Query(ge=1)] = None,
    ) -> JSONResponse:
        return outcome_response(broker.set_state(caller, notice_id, NoticeState.CANCELLED, replaces_version, site))

    return r


_IF_MATCH = r'\s*(?:W/)?"?0*([1-9][0-9]{0,17})"?\s*'
IF_MATCH = f"^{_IF_MATCH}$"
"""What :func:`_version` takes, for the OpenAPI document: a version from 1 (18 digits at most), as
an entity tag or bare."""


def _version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    m = re.fullmatch(_IF_MATCH, if_match)
    if m is None:
        raise ValidationError.at("If-Match", f'must be a version such as "3", got {if_match!r}')
    return int(m.group(1))
