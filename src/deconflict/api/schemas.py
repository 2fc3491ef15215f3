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
route points at it with ``openapi_extra=request_body(Model, example)``. A volume's schemas (F3548
and GeoJSON) are in :mod:`deconflict.api.schemas_volumes`, what request and response schemas share
in :mod:`deconflict.api.schemas_base`, and the response schemas in :mod:`deconflict.api.schemas_out`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel
from pydantic.json_schema import SkipJsonSchema

from deconflict.api.schemas_base import NOT_BLANK, RFC3339, STRICT, one_of, strict
from deconflict.api.schemas_volumes import AltitudeRef, BBox, Feature, NoticeFeature, Volume4D
from deconflict.domain.hotline import MAX_ACK_WITHIN_S, MAX_RECIPIENTS, MAX_SUBJECT, MAX_TEXT, MIN_ACK_WITHIN_S
from deconflict.domain.tracks import MAX_AIRCRAFT_ID, MAX_GS_MPS, MAX_VS_MPS
from deconflict.domain.volumes import MAX_ACM_TYPE, MAX_DESCRIPTION, MAX_NAME

REF = "#/components/schemas/{model}"
"""Where the OpenAPI document keeps a named schema."""


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

    model_config = ConfigDict(json_schema_extra=one_of)


class NoticeUpdateBody(RootModel[NoticeUpdate | NoticeCollectionUpdate]):
    """A notice's replacement: the F3548-21 object or a GeoJSON FeatureCollection, with `replaces_version`."""

    model_config = ConfigDict(json_schema_extra=one_of)


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
