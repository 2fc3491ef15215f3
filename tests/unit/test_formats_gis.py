"""GeoJSON/KML geometry: a volume's exported polygon contains the shape, checked against our own
geodesic distance (the oracle: every sampled point whose distance to the shape is inside it)."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import example, given, settings
from hypothesis import strategies as st

from deconflict.domain.geodesy import destination, midpoint
from deconflict.domain.horizontal import separation
from deconflict.domain.parse import shape_to_f3548
from deconflict.domain.shapes import ShapeKind, make_shape
from deconflict.formats.gis import feature_collection, to_kml, volume_polygon

BAND = {
    "altitude_lower": {"value": 0, "reference": "AMSL", "units": "M"},
    "altitude_upper": {"value": 100, "reference": "AMSL", "units": "M"},
}
WINDOW = {
    "time_start": {"value": "2030-09-30T00:00:00Z", "format": "RFC3339"},
    "time_end": {"value": "2030-09-30T01:00:00Z", "format": "RFC3339"},
}


@settings(max_examples=40, deadline=None)
@given(
    lat=st.floats(-70, 70),
    lon=st.floats(-179, 179),
    size=st.floats(200, 80_000),
    kind=st.sampled_from([ShapeKind.CIRCLE, ShapeKind.CORRIDOR, ShapeKind.ORBIT]),
    bearing=st.floats(0, 360),
)
@example(lat=0.0, lon=179.0, size=80_000.0, kind=ShapeKind.CORRIDOR, bearing=90.0)  # across the antimeridian
@example(lat=10.0, lon=-179.5, size=60_000.0, kind=ShapeKind.CIRCLE, bearing=0.0)
def test_the_exported_polygon_contains_every_point_of_the_shape(
    lat: float, lon: float, size: float, kind: ShapeKind, bearing: float
) -> None:
    if kind is ShapeKind.CIRCLE:
        shape = make_shape(kind, [(lat, lon)], size)
    else:
        la, lo = destination(lat, lon, np.array([bearing]), np.array([3 * size]))
        shape = make_shape(kind, [(lat, lon), (float(la[0]), float(lo[0]))], size / 2)
    poly = shapely.geometry.shape(volume_polygon({"volume": {**shape_to_f3548(shape), **BAND}, **WINDOW}))
    # Points just inside the shape's rim, all round: each must be in the polygon.
    az = np.linspace(0, 360, 97)
    centres = list(shape.points) + ([midpoint(shape.points[0], shape.points[1])] if len(shape.points) == 2 else [])
    for centre in centres:  # round each end, and across the middle of a corridor or orbit
        reach = shape.buffer_m * 0.999
        plat, plon = destination(centre[0], centre[1], az, np.full(az.shape, reach))
        for a, b in zip(plat, plon, strict=True):
            probe = make_shape(ShapeKind.CIRCLE, [(float(a), float(b))], 1.0)
            if separation(shape, probe).core_distance_m <= shape.buffer_m:  # inside by our own geodesy
                assert poly.covers(shapely.Point(float(b), float(a)))


def test_a_polygon_goes_out_as_it_is_and_kml_names_each_feature() -> None:
    ring = [(35.0, 36.0), (35.0, 36.1), (35.1, 36.1)]
    shape = make_shape(ShapeKind.POLYGON, ring)
    vol = {"volume": {**shape_to_f3548(shape), **BAND}, **WINDOW}
    assert volume_polygon(vol)["coordinates"] == [[[36.0, 35.0], [36.1, 35.0], [36.1, 35.1], [36.0, 35.0]]]
    notice = {"id": "p:n", "party": "p", "kind": "activity", "state": "accepted", "volumes": [vol]}
    coarse = {"id": "c1", "state": "open", "disclosure": "existence", "sides": [{"hidden": True}],
              "area": {"type": "Polygon", "coordinates": [[[36, 35], [37, 35], [37, 36], [36, 36], [36, 35]]]},
              "time_window": {"start": "2030-09-30T00:00:00Z", "end": "2030-10-01T00:00:00Z"}}  # fmt: skip
    fc = feature_collection([notice], [coarse])
    assert [f["properties"]["layer"] for f in fc["features"]] == ["notice", "conflict"]
    kml = to_kml(fc, "p & co")
    assert "<name>p &amp; co</name>" in kml and kml.count("<Placemark>") == 2
    assert "36.0000000,35.0000000 36.1000000,35.0000000" in kml


def test_a_volume_across_the_antimeridian_goes_out_in_parts_on_either_side() -> None:
    """RFC 7946 §3.1.9: a GIS would draw a ring from 179° to -179° the long way round."""
    shape = make_shape(ShapeKind.CIRCLE, [(10.0, 179.9)], 30_000)
    g = volume_polygon({"volume": {**shape_to_f3548(shape), **BAND}, **WINDOW})
    assert g["type"] == "MultiPolygon" and len(g["coordinates"]) == 2
    lons = [p[0] for part in g["coordinates"] for p in part[0]]
    assert min(lons) >= -180 and max(lons) <= 180 and min(lons) < -179.5 and max(lons) > 179.9
    both = shapely.geometry.shape(g)
    assert both.covers(shapely.Point(179.95, 10.0)) and both.covers(shapely.Point(-179.85, 10.0))
    assert not both.covers(shapely.Point(0.0, 10.0))  # not the long way round
    vol = {"volume": {**shape_to_f3548(shape), **BAND}, **WINDOW}
    notice = {"id": "p:n", "party": "p", "kind": "activity", "state": "accepted", "volumes": [vol]}
    kml = to_kml(feature_collection([notice], []))
    assert kml.count("<Polygon>") == 2 and "<MultiGeometry>" in kml
