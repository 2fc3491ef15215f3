"""What a filing precomputes outside the filing lock (issue 11 §6) is byte for byte what it used
to compute inside: the event's payload text, and the conflict slices cut to the grid."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from deconflict.adapters.sql.codec import detail_from_json, detail_json
from deconflict.domain.audit import Event, canonical_json, next_event, payload_digest_of, verify_chain
from deconflict.domain.canonical import canonical_json_with
from deconflict.domain.grid import SliceGrid
from deconflict.domain.notice_json import parse_notice
from deconflict.domain.policy import SeparationPolicy
from deconflict.domain.strategic import Conflict, volume_conflict
from deconflict.domain.volumes import Notice
from deconflict.services.filing_flow import PreslicedGrid, preslice
from deconflict.services.ports import ConflictRecord, ConflictState
from deconflict.services.wire import NOTHING_ENCODED, Encoded, conflict_json, notice_json, slice_json


def band_and_week(k: int) -> dict[str, Any]:
    return {
        "altitude_lower": {"value": -400, "reference": "AMSL", "units": "M"},
        "altitude_upper": {"value": 99_000, "reference": "AMSL", "units": "M"},
        "time_start": {"value": f"2030-01-{1 + 7 * k:02d}T00:00:00Z", "format": "RFC3339"},
        "time_end": {"value": f"2030-01-{8 + 7 * k:02d}T00:00:00Z", "format": "RFC3339"},
    }


def heavy(volumes: int) -> dict[str, Any]:
    """As benchmarks/heavy_filing.py: 1000-vertex stars 480 km across, a week each."""
    ring = []
    for k in range(1000):
        r = (240 if k % 2 == 0 else 200) / 111.2
        a = 2 * math.pi * k / 1000
        ring.append({"lat": 35.0 + r * math.sin(a), "lng": 38.0 + r * math.cos(a) / math.cos(math.radians(35.0))})
    vols = []
    for k in range(volumes):
        b = band_and_week(k)
        vol = {"outline_polygon": {"vertices": ring}, "altitude_lower": b.pop("altitude_lower")}
        vols.append({"volume": vol | {"altitude_upper": b.pop("altitude_upper")}, **b})
    return {"id": "h", "volumes": vols}


def circle(nid: str, lat: float, lon: float, k: int) -> dict[str, Any]:
    b = band_and_week(k)
    outline = {"center": {"lat": lat, "lng": lon}, "radius": {"value": 5, "units": "KM"}}
    vol = {"outline_circle": outline, "altitude_lower": b.pop("altitude_lower")}
    return {"id": nid, "volumes": [{"volume": vol | {"altitude_upper": b.pop("altitude_upper")}, **b}]}


def stored_form(payload: dict[str, Any]) -> str:
    """How the SQL store wrote an event's payload before it kept the hashed text."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**60), 2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_the_stored_payload_text_is_the_old_encoding_and_the_hashed_bytes(payload: dict[str, Any]) -> None:
    e = next_event(None, 1000.0, "broker", "t", payload)
    assert e.payload_text == stored_form(payload)
    assert e.payload_text.encode("utf-8") == canonical_json(payload)
    assert e.payload_digest == payload_digest_of(payload)


def test_a_heavy_notice_event_is_stored_as_before_and_still_chains() -> None:
    nj = notice_json(parse_notice(heavy(2) | {"party": "red", "id": "red:h"}))
    e1 = next_event(None, 1000.0, "red", "notice.filed", {"notice": nj, "salt": "é"})
    e2 = next_event(e1, 1000.0, "red", "conflict.created", {"conflict": {"id": "c"}})
    assert e1.payload_text == stored_form(e1.payload)
    # the text is a cache, not part of the event: one read back from the store equals it
    read_back = Event(**{**e1.to_json(), "payload": json.loads(e1.payload_text or "")})
    assert read_back == e1 and read_back.payload_text is None
    assert verify_chain([read_back, e2]) == []


def test_presliced_slices_are_the_grids_slices() -> None:
    policy = SeparationPolicy()
    big = parse_notice(heavy(2) | {"party": "red", "id": "red:h"})
    found = []
    for k in range(6):
        small = parse_notice(circle(f"n{k}", 35.0 + 0.4 * k, 38.0 - 0.3 * k, k % 2) | {"party": "green"})
        for i, v in enumerate(big.volumes):
            detail = volume_conflict(v, small.volumes[0], policy)
            if detail is not None:
                found.append(Conflict(big, i, small, 0, detail))
    assert len(found) >= 6
    grid = SliceGrid(s2_level=9, time_s=600.0)
    pre = preslice(grid, found[:-1])  # the last one is not cut in advance: the grid cuts it
    assert isinstance(pre, PreslicedGrid) and hash(pre) == hash(grid) and len(pre.done) == len(found) - 1
    for c in found:
        exact = slice_json(c.detail)
        assert canonical_json(pre.slice(exact)) == canonical_json(grid.slice(exact))
    # each answer is the caller's own copy
    first = pre.slice(slice_json(found[0].detail))
    first["overlap"]["coordinates"].clear()
    assert pre.slice(slice_json(found[0].detail)) == grid.slice(slice_json(found[0].detail))


def test_a_conflict_detail_is_stored_as_before() -> None:
    policy = SeparationPolicy()
    big = parse_notice(heavy(1) | {"party": "red", "id": "red:h"})
    small = parse_notice(circle("n", 35.0, 38.0, 0) | {"party": "green"})
    detail = volume_conflict(big.volumes[0], small.volumes[0], policy)
    assert detail is not None
    old = json.dumps(dataclasses.asdict(detail), separators=(",", ":"))
    assert detail_json(detail) == old
    assert detail_from_json(old) == detail


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6), st.data())
def test_canonical_json_put_together_from_parts_is_the_canonical_json_of_the_whole(
    obj: dict[str, Any], data: st.DataObject
) -> None:
    made = data.draw(st.sets(st.sampled_from(sorted(obj))) if obj else st.just(set[str]()))
    known = {k: canonical_json(obj[k]) for k in made}
    assert canonical_json_with(obj, known) == canonical_json(obj)


def heavy_with_conflicts() -> tuple[Notice, list[Conflict]]:
    policy = SeparationPolicy()
    big = parse_notice(heavy(2) | {"party": "red", "id": "red:h"})
    found = []
    for k in range(4):
        small = parse_notice(circle(f"n{k}", 35.0 + 0.4 * k, 38.0 - 0.3 * k, k % 2) | {"party": "green"})
        for i, v in enumerate(big.volumes):
            detail = volume_conflict(v, small.volumes[0], policy)
            if detail is not None:
                found.append(Conflict(big, i, small, 0, detail))
    assert len(found) >= 4
    return big, found


def record(c: Conflict) -> ConflictRecord:
    return ConflictRecord(
        id="c1",
        notice_a=c.a.id or "",
        party_a=c.a.party,
        version_a=1,
        volume_a=c.volume_a,
        notice_b=c.b.id or "",
        party_b=c.b.party,
        version_b=1,
        volume_b=c.volume_b,
        protected_site=False,
        protected_side=None,
        detail=c.detail,
        state=ConflictState.OPEN,
        detected_at=1000.0,
        updated_at=1000.0,
    )


def test_forms_made_before_the_lock_are_the_forms_and_bytes_made_under_it() -> None:
    """The notice stored under the lock is a new object (its id, version and time set) with the
    same volumes; its form and canonical bytes are those made from scratch. A notice whose volumes
    are other objects, or a detail that was not prepared, is made afresh."""
    big, found = heavy_with_conflicts()
    enc = Encoded.of(big, (c.detail for c in found[:-1]))
    stored = dataclasses.replace(big, version=3, received_at=1234.5)
    nj = notice_json(stored, enc)
    assert nj["volumes"] is enc.volumes_json  # shared, not made again
    assert nj == notice_json(stored) and enc.notice_text(nj) == canonical_json(nj)
    reparsed = parse_notice(heavy(2) | {"party": "red", "id": "red:h"})  # equal volumes, other objects
    assert notice_json(reparsed, enc)["volumes"] is not enc.volumes_json
    for c in found:
        cj = conflict_json(record(c), enc)
        assert cj == conflict_json(record(c)) and enc.conflict_text(cj) == canonical_json(cj)
        assert (cj["slice"] is enc.slice_of(c.detail)) is (c is not found[-1])
    assert NOTHING_ENCODED.notice_text(nj) == canonical_json(nj)


def test_a_presliced_answer_is_handed_out_once_then_copied() -> None:
    _, found = heavy_with_conflicts()
    grid = SliceGrid(s2_level=9, time_s=600.0)
    pre = preslice(grid, found)
    exact = slice_json(found[0].detail)
    first, second = pre.slice(exact), pre.slice(exact)
    assert first == second == grid.slice(exact) and first is not second
    first["overlap"]["coordinates"].clear()
    assert pre.slice(exact) == second
    # equal content but another overlap object: not found by identity, so cut by the grid
    copy = json.loads(json.dumps(exact))
    assert pre.slice(copy) == grid.slice(copy)
