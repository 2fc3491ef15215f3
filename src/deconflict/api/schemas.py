"""The wire schemas of the request bodies, for the OpenAPI document (``/openapi.json``).

These models only *describe* what the API reads: the domain parsers stay the authority and
validate every body themselves, with field-path errors (``domain/notice_json.py`` for notices,
``domain/parse.py`` for Volume4D and GeoJSON, ``domain/hotline.py`` for messages and
acknowledgements, ``domain/tracks.py`` and ``services/tactical.py`` for tracks, ``api/events.py``
for webhooks). Routes never validate a body with these models. Each object's properties are the
keys :data:`deconflict.domain.strict.KEYS` lists for it, and ``additionalProperties`` is false
because the parsers refuse any other key; a test (``tests/integration/test_openapi_schemas.py``)
holds the two together.

Each request schema is a component of the document (``api/openapi.py`` registers them) and a
route points at it with ``openapi_extra=request_body(Model, example)``. The response schemas
are in :mod:`deconflict.api.schemas_out`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel
from pydantic.json_schema import SkipJsonSchema

from deconflict.domain.hotline import MAX_ACK_WITHIN_S, MAX_RECIPIENTS, MAX_SUBJECT, MAX_TEXT, MIN_ACK_WITHIN_S
from deconflict.domain.tracks import MAX_AIRCRAFT_ID, MAX_GS_MPS, MAX_VS_MPS
from deconflict.domain.volumes import MAX_ACM_TYPE, MAX_DESCRIPTION, MAX_NAME

REF = "#/components/schemas/{model}"
"""Where the OpenAPI document keeps a named schema."""

RFC3339 = r"^\s*\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\s*$"
"""An RFC 3339 time with its offset, as ``domain/times.py`` reads it."""


def no_null_defaults(schema: dict[str, Any]) -> None:
    """An optional key may be left out, not sent as null: drop the ``"default": null`` pydantic writes
    for ``X | SkipJsonSchema[None] = None``."""
    for prop in schema.get("properties", {}).values():
        if "default" in prop and prop["default"] is None:
            del prop["default"]


def strict(**rules: Any) -> ConfigDict:
    """The configuration of a request object: the parsers refuse a key they do not know
    (``additionalProperties: false``); ``rules`` are added to its schema as they are."""

    def extra(schema: dict[str, Any]) -> None:
        no_null_defaults(schema)
        schema.update(rules)

    return ConfigDict(extra="forbid", json_schema_extra=extra)


STRICT = strict()

NOT_BLANK = r"\S"
"""A string with something in it besides white space (the parsers strip it)."""


def _one_of(schema: dict[str, Any]) -> None:
    """Exactly one of the alternatives (pydantic writes ``anyOf`` for a plain union)."""
    schema["oneOf"] = schema.pop("anyOf")


# ---------------------------------------------------------------- F3548-21 Volume4D


class LatLng(BaseModel):
    """A point in degrees on WGS 84."""

    model_config = STRICT
    lat: float = Field(ge=-90, le=90, description="Latitude, degrees (WGS 84), −90 to 90.")
    lng: float = Field(ge=-180, le=180, description="Longitude, degrees (WGS 84), −180 to 180.")


LengthUnits = Literal["M", "KM", "FT", "NM"]
AltitudeUnits = Literal["M", "FT", "FL"]
AltitudeRef = Literal["W84", "AMSL", "STD"]


_AT_LEAST_1_M = {"M": 1, "KM": 0.001, "FT": 3.281, "NM": 0.00054}
"""The smallest radius or width a shape may have (1 m), in each unit (FT and NM rounded up)."""


class Distance(BaseModel):
    """A length with its unit (a radius or a width). The unit is required: a bare number is refused."""

    model_config = strict(
        allOf=[
            {"if": {"properties": {"units": {"const": u}}}, "then": {"properties": {"value": {"minimum": least}}}}
            for u, least in _AT_LEAST_1_M.items()
        ]
    )
    value: float = Field(
        gt=0,
        description="The length, in `units`: at least 1 m; a radius reaches at most half the theater's max extent "
        "(default 500 km), a width at most the max extent.",
    )
    units: LengthUnits = Field(description="`M` metres, `KM` kilometres, `FT` international feet, `NM` nautical miles.")


class Altitude(BaseModel):
    """One bound of an altitude band. Both bounds of a band use the same reference; the band must lie
    within [−500 m, 100 km]."""

    # a flight level is a pressure altitude: STD or nothing; anything else names W84 or AMSL
    model_config = strict(
        **{
            "if": {"properties": {"units": {"const": "FL"}}, "required": ["units"]},
            "then": {"properties": {"reference": {"const": "STD"}}},
            "else": {"required": ["reference"], "properties": {"reference": {"enum": ["W84", "AMSL"]}}},
        }
    )
    value: float = Field(description="The altitude in `units` (with `FL`, a flight level number: 250 = FL250, ≥ 0).")
    reference: AltitudeRef | SkipJsonSchema[None] = Field(
        default=None,
        description="`W84` (above the WGS 84 ellipsoid) or `AMSL` (above mean sea level); `STD` (standard pressure) "
        "only with `FL`, where it may be left out. Required otherwise. `AGL` is refused (it needs terrain data).",
    )
    units: AltitudeUnits = Field(description="`M` metres, `FT` feet, or `FL` flight level (hundreds of feet, STD).")


class Time(BaseModel):
    """A time in the F3548 form; the bare RFC 3339 string is accepted in its place."""

    model_config = STRICT
    value: str = Field(
        pattern=RFC3339, description="RFC 3339 with an offset (`Z` or `+03:00`), e.g. `2015-09-30T07:30:00Z`."
    )
    format: Literal["RFC3339"] = Field(default="RFC3339", description="Only `RFC3339`.")


TimeValue = Annotated[
    Time | Annotated[str, Field(pattern=RFC3339, description="RFC 3339 with an offset, e.g. `2015-09-30T07:30:00Z`.")],
    Field(description='`{"value": "2015-09-30T07:30:00Z", "format": "RFC3339"}` or the bare string.'),
]


class OutlinePolygon(BaseModel):
    """A region bounded by geodesic edges; the ring may be closed or not. Edges must not cross."""

    model_config = STRICT
    vertices: list[LatLng] = Field(
        min_length=3, description="At least 3 distinct vertices, at most the theater's limit (default 1000)."
    )


class OutlineCircle(BaseModel):
    """A geodesic circle."""

    model_config = STRICT
    center: LatLng
    radius: Distance = Field(description="Radius; the shape may reach at most half the max extent (default 500 km).")


class OutlineCorridor(BaseModel):
    """Every point within `width`/2 of the centreline (round ends): an airspace control order CORRIDOR."""

    model_config = STRICT
    centerline: list[LatLng] = Field(min_length=2, description="At least 2 points.")
    width: Distance = Field(description="Full width of the corridor.")


class OutlineOrbit(BaseModel):
    """An AORBIT racetrack: every point within `width`/2 of the segment between the two points."""

    model_config = STRICT
    points: list[LatLng] = Field(min_length=2, max_length=2, description="The two ends of the racetrack's axis.")
    width: Distance = Field(description="Full width of the racetrack.")


class Volume3D(BaseModel):
    """Exactly one outline and an altitude band."""

    model_config = strict(
        oneOf=[{"required": [k]} for k in ("outline_polygon", "outline_circle", "outline_corridor", "outline_orbit")]
    )
    outline_polygon: OutlinePolygon | SkipJsonSchema[None] = None
    outline_circle: OutlineCircle | SkipJsonSchema[None] = None
    outline_corridor: OutlineCorridor | SkipJsonSchema[None] = None
    outline_orbit: OutlineOrbit | SkipJsonSchema[None] = None
    altitude_lower: Altitude = Field(description="Lower bound; not above the upper.")
    altitude_upper: Altitude = Field(description="Upper bound, in the same reference as the lower.")


CLOCK = r"^\d{2}:\d{2}(:\d{2})?$"
"""A UTC time of day as ``domain/schedule_json.py`` reads it."""
Weekday = Literal["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]


class DailyWindow(BaseModel):
    """A window of the day, UTC. An end not after the start crosses midnight (it ends the next day)."""

    model_config = STRICT
    start: str = Field(pattern=CLOCK, description="`HH:MM` or `HH:MM:SS` UTC, from `00:00` to `23:59:59`.")
    end: str = Field(pattern=CLOCK, description="`HH:MM` or `HH:MM:SS` UTC, up to `24:00`; not equal to `start`.")


class Schedule(BaseModel):
    """Our extension: the volume is active only in these daily windows (on these weekdays) between its
    `time_start` and `time_end`, like ACO `APERIOD` DAILY / weekdays and ED-269 `dailyPeriod`."""

    model_config = STRICT
    days: list[Weekday] | SkipJsonSchema[None] = Field(
        default=None, min_length=1, description="Weekdays a window starts on, each once; every day when left out."
    )
    windows: list[DailyWindow] = Field(min_length=1, max_length=8, description="1 to 8 daily windows.")


class Volume4D(BaseModel):
    """An ASTM F3548-21 Volume4D: a volume and its time window (at most 7 days by default; with a
    `schedule`, the envelope of its occurrences, at most 366 days by default)."""

    model_config = STRICT
    volume: Volume3D
    time_start: TimeValue
    time_end: TimeValue = Field(description="After `time_start`.")
    schedule: Schedule | SkipJsonSchema[None] = Field(
        default=None, description="Recurring daily windows within the time window (our extension)."
    )


# ---------------------------------------------------------------- GeoJSON (RFC 7946)

Position = Annotated[
    list[float],
    Field(min_length=2, description="`[longitude, latitude]` in degrees (a third number, altitude, is ignored)."),
]
BBox = Annotated[
    list[float] | SkipJsonSchema[None],
    Field(default=None, description="The GeoJSON bounding box; derived from the coordinates and ignored."),
]


class PolygonGeometry(BaseModel):
    """A polygon of one ring (holes are refused)."""

    model_config = STRICT
    type: Literal["Polygon"]
    coordinates: list[list[Position]] = Field(min_length=1, max_length=1, description="One ring of positions.")
    bbox: BBox


class PointGeometry(BaseModel):
    """The centre of a circle (`properties.radius`)."""

    model_config = STRICT
    type: Literal["Point"]
    coordinates: Position
    bbox: BBox


class LineStringGeometry(BaseModel):
    """A corridor's centreline (`properties.width`), or an orbit's two points (`"shape": "orbit"`)."""

    model_config = STRICT
    type: Literal["LineString"]
    coordinates: list[Position] = Field(min_length=2)
    bbox: BBox


Geometry = Annotated[PolygonGeometry | PointGeometry | LineStringGeometry, Field(discriminator="type")]


class FeatureProperties(BaseModel):
    """A volume's altitude band and time window, and what its geometry needs to become a shape."""

    model_config = STRICT
    radius: Distance | SkipJsonSchema[None] = Field(default=None, description="Required with a Point: its radius.")
    width: Distance | SkipJsonSchema[None] = Field(
        default=None, description="Required with a LineString: the corridor's or orbit's full width."
    )
    shape: Literal["corridor", "orbit"] | SkipJsonSchema[None] = Field(
        default=None, description="With a LineString: `corridor` (the default) or `orbit` (exactly two positions)."
    )
    altitude_lower: Altitude
    altitude_upper: Altitude
    time_start: TimeValue
    time_end: TimeValue


class NoticeFeatureProperties(FeatureProperties):
    """A feature of a notice collection: its volume, and the notice it belongs to."""

    party: str | SkipJsonSchema[None] = Field(default=None, description="The calling party, or left out.")
    id: str | SkipJsonSchema[None] = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The notice this feature is a volume of: features with the same id form one notice; "
        "a feature without one is a notice by itself.",
    )
    kind: str | SkipJsonSchema[None] = Field(
        default=None, description="The notice's kind (default `activity`), the same on all its features."
    )
    name: str | SkipJsonSchema[None] = Field(
        default=None,
        min_length=1,
        max_length=MAX_NAME,
        description="The notice's `name` (as in a notice): on any of its features, the same where several give it.",
    )
    acm_type: str | SkipJsonSchema[None] = Field(
        default=None,
        pattern=f"^[A-Z0-9]{{1,{MAX_ACM_TYPE}}}$",
        description="The notice's `acm_type` (as in a notice): on any of its features, the same where several give it.",
    )
    description: str | SkipJsonSchema[None] = Field(
        default=None,
        min_length=1,
        max_length=MAX_DESCRIPTION,
        description="The notice's `description` (as in a notice): on any of its features, the same where several "
        "give it.",
    )


_FEATURE_RULES = strict(
    allOf=[
        {
            "if": {"properties": {"geometry": {"properties": {"type": {"const": gtype}}}}},
            "then": {"properties": {"properties": {"required": [needs]}}},
        }
        for gtype, needs in (("Point", "radius"), ("LineString", "width"))
    ]
)


class Feature(BaseModel):
    """One volume as a GeoJSON Feature (in a notice's `volumes`, in place of a Volume4D)."""

    model_config = _FEATURE_RULES
    type: Literal["Feature"]
    geometry: Geometry
    properties: FeatureProperties
    bbox: BBox


class NoticeFeature(BaseModel):
    """One volume of a notice filed as a GeoJSON FeatureCollection."""

    model_config = _FEATURE_RULES
    type: Literal["Feature"]
    geometry: Geometry
    properties: NoticeFeatureProperties
    bbox: BBox


# ---------------------------------------------------------------- notices


class Notice(BaseModel):
    """A notice in the F3548-21 form: one or more Volume4D (or GeoJSON Features)."""

    model_config = STRICT
    id: str | SkipJsonSchema[None] = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Your id for it (1–200 characters), kept as `<party>:<id>`; left out, the broker makes one.",
    )
    party: str | SkipJsonSchema[None] = Field(default=None, description="The calling party, or left out.")
    kind: str | SkipJsonSchema[None] = Field(
        default=None, description="Free text; default `activity`. `protected-site` is filed at /v1/protected-sites."
    )
    name: str | SkipJsonSchema[None] = Field(
        default=None,
        min_length=1,
        max_length=MAX_NAME,
        description=f"What it is called (one line, at most {MAX_NAME} characters, no control character), shown "
        "with the notice to whoever may see it whole; an ACO measure's NAME.",
    )
    acm_type: str | SkipJsonSchema[None] = Field(
        default=None,
        pattern=f"^[A-Z0-9]{{1,{MAX_ACM_TYPE}}}$",
        description="An ACO airspace control measure's type (`ACM:`), such as `ROZ` or `AAR`: capital letters "
        f"and digits, at most {MAX_ACM_TYPE}; an ACO export writes it (`ROZ` without one).",
    )
    description: str | SkipJsonSchema[None] = Field(
        default=None,
        min_length=1,
        max_length=MAX_DESCRIPTION,
        description=f"Your words about it (at most {MAX_DESCRIPTION} characters; line breaks and tabs, no other "
        "control character), shown with the notice to whoever may see it whole; an ACO measure's AMPN.",
    )
    volumes: list[Volume4D | Feature] = Field(
        min_length=1, description="At least one volume, at most the theater's limit (default 100)."
    )


class NoticeCollection(BaseModel):
    """A notice as a GeoJSON FeatureCollection: one notice per request, so every feature carries the same
    `id` (or there is one feature without an id)."""

    model_config = STRICT
    type: Literal["FeatureCollection"]
    features: list[NoticeFeature] = Field(min_length=1)
    bbox: BBox


ReplacesVersion = Annotated[
    int | SkipJsonSchema[None],
    Field(
        default=None,
        ge=1,
        description='The version this update replaces (or send `If-Match: "N"`); 409 when it is no longer current.',
    ),
]


_SAME_ID = "The notice in the URL (its full `<party>:<id>` or your short id), or left out."


class NoticeUpdate(Notice):
    """A notice's new volumes, naming the version they replace."""

    id: str | SkipJsonSchema[None] = Field(default=None, min_length=1, max_length=200, description=_SAME_ID)
    replaces_version: ReplacesVersion


class NoticeCollectionUpdate(NoticeCollection):
    """A notice's new volumes as a FeatureCollection, naming the version they replace."""

    replaces_version: ReplacesVersion


class NoticeBody(RootModel[Notice | NoticeCollection]):
    """A notice: the F3548-21 object or a GeoJSON FeatureCollection (docs/notices.md)."""

    model_config = ConfigDict(json_schema_extra=_one_of)


class NoticeUpdateBody(RootModel[NoticeUpdate | NoticeCollectionUpdate]):
    """A notice's replacement: the F3548-21 object or a GeoJSON FeatureCollection, with `replaces_version`."""

    model_config = ConfigDict(json_schema_extra=_one_of)


# ---------------------------------------------------------------- the hotline


class MessageRef(BaseModel):
    """What a message is about."""

    model_config = STRICT
    kind: Literal["notice", "conflict", "alert"]
    id: str = Field(min_length=1, description="The id of the notice, conflict or alert.")


Recipients = Annotated[
    list[Annotated[str, Field(min_length=1)]],
    Field(min_length=1, max_length=MAX_RECIPIENTS, json_schema_extra={"uniqueItems": True}),
]


class MessageDraft(BaseModel):
    """A message to one party, several, or all; or a reply in a thread."""

    model_config = strict(anyOf=[{"required": ["to"]}, {"required": ["in_reply_to"]}])
    to: Recipients | Literal["all"] | SkipJsonSchema[None] = Field(
        default=None,
        description='Party names (1–100, no repeats), or `"all"` (every party but the admins). Required, except in '
        "a reply (`in_reply_to`), which without it goes to the thread's other participants.",
    )
    subject: str = Field(min_length=1, max_length=MAX_SUBJECT, pattern=NOT_BLANK, description="Not blank.")
    text: str = Field(min_length=1, max_length=MAX_TEXT, pattern=NOT_BLANK, description="Not blank.")
    priority: Literal["routine", "priority", "immediate", "flash"] = Field(
        default="routine", description="Precedence, lowest first (ROUTINE, PRIORITY, IMMEDIATE, FLASH)."
    )
    ref: MessageRef | SkipJsonSchema[None] = None
    ack_within_s: float | SkipJsonSchema[None] = Field(
        default=None,
        ge=MIN_ACK_WITHIN_S,
        le=MAX_ACK_WITHIN_S,
        description="Acknowledgement deadline, seconds after sending (1 s to 7 days); escalated when missed.",
    )
    in_reply_to: str | SkipJsonSchema[None] = Field(
        default=None, min_length=1, description="The id of the message this answers: continues its thread."
    )


class Acknowledgement(BaseModel):
    """A recipient's answer: received, or understood (never "approved"). An empty body means understood."""

    model_config = STRICT
    state: Literal["received", "understood"] = "understood"


# ---------------------------------------------------------------- tracks


class TrackStateIn(BaseModel):
    """One report of one of your aircraft. `gs_mps` and `trk_deg` come together or not at all; without them
    the velocity is derived from the aircraft's previous report."""

    model_config = strict(dependentRequired={"gs_mps": ["trk_deg"], "trk_deg": ["gs_mps"]})
    aircraft: str = Field(
        min_length=1, max_length=MAX_AIRCRAFT_ID, pattern=NOT_BLANK, description="Your id for the aircraft."
    )
    time: Annotated[str, Field(pattern=RFC3339)] | float = Field(
        description="When it was there: RFC 3339 with an offset, or epoch seconds. At most 5 s ahead of the "
        "broker's clock and no older than the track timeout (default 60 s)."
    )
    lat: float = Field(ge=-90, le=90, description="Latitude, degrees (WGS 84).")
    lon: float = Field(ge=-180, le=180, description="Longitude, degrees (WGS 84).")
    alt_m: float = Field(ge=-500, le=30_000, description="Altitude, metres, in `alt_ref`.")
    alt_ref: AltitudeRef = Field(
        description="`W84` (ellipsoid), `AMSL` (mean sea level) or `STD` (pressure altitude); required: they differ "
        "by hundreds of metres."
    )
    gs_mps: float | SkipJsonSchema[None] = Field(
        default=None, ge=0, le=MAX_GS_MPS, description="Ground speed, metres per second."
    )
    trk_deg: float | SkipJsonSchema[None] = Field(
        default=None, ge=0, lt=360, description="Track over the ground, degrees clockwise from true north."
    )
    vs_mps: float | SkipJsonSchema[None] = Field(
        default=None, ge=-MAX_VS_MPS, le=MAX_VS_MPS, description="Vertical speed, metres per second (up is positive)."
    )
    callsign: str | SkipJsonSchema[None] = Field(default=None, max_length=16)


class TrackBatch(BaseModel):
    """A batch of states. The batch is answered 200 as long as `states` is a list: a state that does not
    fit its schema (or is too old, ahead of the clock, older than the one held) is refused on its own,
    listed in `rejected` with its field and reason, and the others are kept."""

    model_config = STRICT
    states: list[TrackStateIn] = Field(max_length=10_000, description="At most 10 000 states.")


# ---------------------------------------------------------------- webhooks


class Webhook(BaseModel):
    """Where to POST your events, and the secret they are signed with (HMAC-SHA256)."""

    model_config = STRICT
    url: str = Field(
        max_length=2000,
        pattern=r"^https?://",
        description="`https://` to a public address (plain `http://` and private addresses only where the broker "
        "is configured with `webhooks_to_private`).",
    )
    secret: str = Field(min_length=16, max_length=200, description="16–200 characters.")


# ---------------------------------------------------------------- the document

REQUEST_MODELS: tuple[type[BaseModel], ...] = (
    NoticeBody,
    NoticeUpdateBody,
    MessageDraft,
    Acknowledgement,
    TrackBatch,
    Webhook,
)
"""The request bodies the routes name; every schema they use becomes a component."""


def request_body(
    model: type[BaseModel], example: Any = None, *, required: bool = True, description: str | None = None
) -> dict[str, Any]:
    """``openapi_extra`` for a route whose body ``model`` describes (the route still reads it itself)."""
    if model not in REQUEST_MODELS:
        raise ValueError(f"{model.__name__} is not in REQUEST_MODELS: its schema would not be in the document")
    media: dict[str, Any] = {"schema": {"$ref": REF.format(model=model.__name__)}}
    if example is not None:
        media["example"] = example
    body: dict[str, Any] = {"required": required, "content": {"application/json": media}}
    if description is not None:
        body["description"] = description
    return {"requestBody": body}


def component_schemas(models: tuple[type[BaseModel], ...] = REQUEST_MODELS) -> dict[str, Any]:
    """The schemas of ``models`` and of every model they use, by name."""
    out: dict[str, Any] = {}
    for model in models:
        schema = model.model_json_schema(ref_template=REF)
        defs = schema.pop("$defs", {})
        for name, s in {**defs, model.__name__: schema}.items():
            if out.setdefault(name, s) != s:
                raise RuntimeError(f"two different schemas are named {name!r}")
    return out
