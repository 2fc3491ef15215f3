"""The request schemas of a volume, for the OpenAPI document: the F3548-21 ``Volume4D`` (with our
``outline_corridor`` and ``outline_orbit``) and the GeoJSON Feature in its place. Documentation
only: ``domain/parse.py`` reads them (see :mod:`deconflict.api.schemas`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from deconflict.api.schemas_base import RFC3339, STRICT, strict
from deconflict.domain.volumes import MAX_ACM_TYPE, MAX_DESCRIPTION, MAX_NAME

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
