"""Need-to-know disclosure: each caller sees what the policy grants it, and nothing beyond.

Every secret in the inputs is a unique marker (party names, notice ids, versions, odd decimals in
the overlap, altitudes and gaps), so a leak is found by searching the JSON of a view for markers
the policy hides, whatever field it would leak through.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.domain.coarse_area import coarse_area
from deconflict.domain.disclosure import ACK_EVENT, CONFLICT_EVENTS, NOTICE_EVENTS, PARTY_PRIVATE_EVENTS, Disclosure
from deconflict.domain.disclosure_policy import DisclosurePolicy, Level
from deconflict.domain.errors import ValidationError
from deconflict.domain.grid import SliceGrid
from deconflict.domain.parties import Party, Role

# ---------------------------------------------------------------------------------------------
# The cast. ALPHA is the subject whose activity the tests guard; the others view it.

ALPHA = "party-alpha"
BRAVO = "party-bravo"
CHARLIE = "party-charlie"
PAPA = "party-papa"  # in ALPHA's coalition
VICTOR = "party-victor"
SIERRA = "authority-sierra"  # files the protected site
OSCAR = "observer-oscar"
OSCAR_BLUE = "observer-oscar-blue"  # an observer the admin made a member of ALPHA's coalition
ROOT = "admin-root"

PARTIES = {
    ALPHA: Party(ALPHA, Role.PARTY, coalition="blue"),
    BRAVO: Party(BRAVO, Role.PARTY),
    CHARLIE: Party(CHARLIE, Role.PARTY, coalition="red"),
    PAPA: Party(PAPA, Role.PARTY, coalition="blue"),
    VICTOR: Party(VICTOR, Role.PARTY),
    SIERRA: Party(SIERRA, Role.AUTHORITY),
    OSCAR: Party(OSCAR, Role.OBSERVER),
    OSCAR_BLUE: Party(OSCAR_BLUE, Role.OBSERVER, coalition="blue"),
    ROOT: Party(ROOT, Role.ADMIN),
}

WINDOW = {"start": "2015-09-30T07:55:00Z", "end": "2015-09-30T08:05:00Z"}
GRID_WINDOW = {"start": "2015-09-30T07:45:00Z", "end": "2015-09-30T08:15:00Z"}
"""``WINDOW`` on the default grid's 15-minute steps (what ``conflicts-only`` shows)."""
DAY_WINDOW = {"start": "2015-09-30T00:00:00Z", "end": "2015-10-01T00:00:00Z"}
"""``WINDOW`` in whole UTC days (what ``existence`` shows)."""
CONFLICT_KEYS = {"id", "state", "detected_at", "updated_at", "resolved_at"}
SIDE_KEYS = {"party", "notice", "version", "volume", "protected_site"}

_versions = iter(range(700_001, 800_000, 17))


def notice(party: str, *, site: bool = False) -> dict[str, Any]:
    """A full notice (the form of ``services.wire.notice_json``) whose every value is a marker."""
    tag = party.split("-")[-1]
    return {
        "id": f"notice-{tag}{'-site' if site else ''}-n0te",
        "party": party,
        "kind": "protected-site" if site else "activity",
        "volumes": [
            {
                "volume": {
                    "outline_circle": {
                        "center": {"lat": 35.3141592, "lng": 36.2718281},
                        "radius": {"value": 4321.123, "units": "M"},
                    },
                    "altitude_lower": {"value": 987.6543, "reference": "W84", "units": "M"},
                    "altitude_upper": {"value": 8765.4321, "reference": "W84", "units": "M"},
                },
                "time_start": {"value": "2015-09-30T07:00:00Z", "format": "RFC3339"},
                "time_end": {"value": "2015-09-30T09:00:00Z", "format": "RFC3339"},
            }
        ],
        "version": next(_versions),
        "state": "accepted",
        "protected_site": site,
        "received_at": "2015-09-30T06:00:00Z",
    }


def side(n: Mapping[str, Any], volume: int) -> dict[str, Any]:
    return {
        "party": n["party"],
        "notice": n["id"],
        "version": n["version"],
        "volume": volume,
        "protected_site": n["protected_site"],
    }


OVERLAP = {
    "type": "Polygon",
    "coordinates": [
        [[36.1234567, 35.7654321], [36.2345678, 35.7654321], [36.2345678, 35.8765432], [36.1234567, 35.7654321]]
    ],
}
SLICE_MARKERS = ["36.1234567", "35.7654321", "36.2345678", "35.8765432", "1234.5678", "2345.6789", "4321.8765"]
SLICE_MARKERS += ["-98.7654", "-765.4321"]


def conflict(cid: str, a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """A full conflict (the form of ``services.wire.conflict_json``) between notices ``a`` and ``b``."""
    return {
        "id": cid,
        "state": "open",
        "detected_at": "2015-09-30T06:00:01Z",
        "updated_at": "2015-09-30T06:00:01Z",
        "resolved_at": None,
        "sides": [side(a, 40_013), side(b, 40_027)],
        "slice": {
            "min_distance_m": 4321.8765,
            "vertical_gap_m": -98.7654,
            "time_gap_s": -765.4321,
            "altitude": {"lower_m": 1234.5678, "upper_m": 2345.6789},
            "time_window": dict(WINDOW),
            "overlap": copy.deepcopy(OVERLAP),
        },
    }


def side_markers(s: Mapping[str, Any]) -> list[str]:
    """What a hidden side must not reveal, anywhere in the view."""
    return [s["party"], s["notice"], str(s["version"]), str(s["volume"])]


NOTICE_ALPHA = notice(ALPHA)
SITE = notice(SIERRA, site=True)


def objects_for(viewer: Party) -> dict[str, dict[str, Any]]:
    """The objects each viewer is shown, some of them relative to the viewer."""
    # "with-viewer": ALPHA against the viewer's own notice; for viewers that file nothing (and ALPHA
    # itself) the other side is BRAVO.
    other = viewer.name if viewer.role.files_notices and viewer.name != ALPHA else BRAVO
    return {
        "notice": NOTICE_ALPHA,
        "site": SITE,
        "with-viewer": conflict("c-with-viewer", NOTICE_ALPHA, notice(other)),
        "alpha-bravo": conflict("c-alpha-bravo", NOTICE_ALPHA, notice(BRAVO)),
        "with-site": conflict("c-with-site", NOTICE_ALPHA, SITE),
        "others": conflict("c-others", notice(BRAVO), notice(CHARLIE)),
    }


# ---------------------------------------------------------------------------------------------
# The matrix: viewer kinds × objects. A conflict's expectation is (first side, second side, the
# view's "disclosure"); "whole" is the input unchanged; None is "not seen at all".

S, H = "shown", "hidden"
WHOLE = "whole"
Expect = tuple[str, str, str] | str | None

P = DisclosurePolicy()


@dataclass(frozen=True)
class Case:
    kind: str
    viewer: Party
    policy: DisclosurePolicy
    notice: bool
    conflicts: Mapping[str, Expect]


def case(kind: str, viewer: str, policy: DisclosurePolicy, notice: bool, **conflicts: Expect) -> Case:
    names = {"with_viewer": "with-viewer", "alpha_bravo": "alpha-bravo", "with_site": "with-site", "others": "others"}
    expected: dict[str, Expect] = dict.fromkeys(names.values())
    expected.update({names[k]: v for k, v in conflicts.items()})
    return Case(kind, PARTIES[viewer], policy, notice, expected)


CASES = [
    case(
        "owner",
        ALPHA,
        P,
        True,
        with_viewer=(S, S, "conflicts-only"),
        alpha_bravo=(S, S, "conflicts-only"),
        with_site=(S, S, "full"),
    ),
    # Coalition members see each other's notices in full, but not each other's conflicts with others.
    case("coalition partner", PAPA, P, True, with_viewer=(S, S, "full")),
    case("other party under the default", VICTOR, P, False, with_viewer=(S, S, "conflicts-only")),
    case("other party, rule full", VICTOR, P.with_grant(VICTOR, ALPHA, Level.FULL), True, with_viewer=(S, S, "full")),
    case(
        "other party, rule conflicts-only over default existence",
        VICTOR,
        DisclosurePolicy(Level.EXISTENCE).with_grant(VICTOR, ALPHA, Level.CONFLICTS_ONLY),
        False,
        with_viewer=(S, S, "conflicts-only"),
    ),
    case(
        "other party, default existence",
        VICTOR,
        DisclosurePolicy(Level.EXISTENCE),
        False,
        with_viewer=(H, S, "existence"),
    ),
    case(
        "other party, rule existence",
        VICTOR,
        P.with_grant(VICTOR, ALPHA, Level.EXISTENCE),
        False,
        with_viewer=(H, S, "existence"),
    ),
    # Even under "none" an involved party learns that its own activity is in conflict.
    case(
        "other party, rule none",
        VICTOR,
        P.with_grant(VICTOR, ALPHA, Level.NONE),
        False,
        with_viewer=(H, S, "existence"),
    ),
    case("other party, default none", VICTOR, DisclosurePolicy(Level.NONE), False, with_viewer=(H, S, "existence")),
    case(
        "coalition partner, rule existence wins over the coalition",
        PAPA,
        P.with_grant(PAPA, ALPHA, Level.EXISTENCE),
        False,
        with_viewer=(H, S, "existence"),
    ),
    case(
        "rules are one-way: ALPHA's grant to VICTOR gives VICTOR nothing",
        VICTOR,
        DisclosurePolicy(Level.EXISTENCE).with_grant(ALPHA, VICTOR, Level.FULL),
        False,
        with_viewer=(H, S, "existence"),
    ),
    case(
        "authority owning the site",
        SIERRA,
        P,
        False,
        with_viewer=(S, S, "conflicts-only"),
        with_site=(S, S, "conflicts-only"),
    ),
    case(
        "authority owning the site, rule existence",
        SIERRA,
        P.with_grant(SIERRA, ALPHA, Level.EXISTENCE),
        False,
        with_viewer=(H, S, "existence"),
        with_site=(H, S, "existence"),
    ),
    case("observer without a grant", OSCAR, P, False),
    case(
        "observer, grant none",
        OSCAR,
        DisclosurePolicy(Level.FULL).with_grant(OSCAR, ALPHA, Level.NONE),
        False,
    ),
    case(
        "observer, grant existence",
        OSCAR,
        P.with_grant(OSCAR, ALPHA, Level.EXISTENCE),
        False,
        with_viewer=(H, H, "existence"),
        alpha_bravo=(H, H, "existence"),
        with_site=(H, S, "existence"),
    ),
    case(
        "observer, grant conflicts-only",
        OSCAR,
        P.with_grant(OSCAR, ALPHA, Level.CONFLICTS_ONLY),
        False,
        with_viewer=(S, H, "existence"),
        alpha_bravo=(S, H, "existence"),
        with_site=(S, S, "conflicts-only"),
    ),
    case(
        "observer, grant full",
        OSCAR,
        P.with_grant(OSCAR, ALPHA, Level.FULL),
        True,
        with_viewer=(S, H, "existence"),
        alpha_bravo=(S, H, "existence"),
        with_site=(S, S, "full"),
    ),
    case(
        "observer, grants on both sides",
        OSCAR,
        P.with_grant(OSCAR, ALPHA, Level.CONFLICTS_ONLY).with_grant(OSCAR, BRAVO, Level.FULL),
        False,
        with_viewer=(S, S, "conflicts-only"),
        alpha_bravo=(S, S, "conflicts-only"),
        with_site=(S, S, "conflicts-only"),
        others=(S, H, "existence"),
    ),
    case(
        "observer granted BRAVO only",
        OSCAR,
        P.with_grant(OSCAR, BRAVO, Level.CONFLICTS_ONLY),
        False,
        with_viewer=(H, S, "existence"),
        alpha_bravo=(H, S, "existence"),
        others=(S, H, "existence"),
    ),
    case(
        "observer made a member of ALPHA's coalition",
        OSCAR_BLUE,
        P,
        True,
        with_viewer=(S, H, "existence"),
        alpha_bravo=(S, H, "existence"),
        with_site=(S, S, "full"),
    ),
    case(
        "admin",
        ROOT,
        DisclosurePolicy(Level.NONE),
        True,
        with_viewer=WHOLE,
        alpha_bravo=WHOLE,
        with_site=WHOLE,
        others=WHOLE,
    ),
]
IDS = [c.kind for c in CASES]


def disclosure(c: Case) -> Disclosure:
    return Disclosure(c.policy, PARTIES)


def dumps(view: Any) -> str:
    return json.dumps(view, sort_keys=True)


def check_conflict_view(view: dict[str, Any] | None, full: dict[str, Any], expected: Expect) -> None:
    """``view`` shows exactly what ``expected`` says, and no marker of anything hidden."""
    if expected is None:
        assert view is None
        return
    assert view is not None
    if expected == WHOLE:
        assert view == full
        return
    assert isinstance(expected, tuple)
    *sides, level = expected
    slice_shown = level != "existence"
    text = dumps(view)
    if level == "full":
        assert set(view) == CONFLICT_KEYS | {"sides", "slice", "disclosure"}
        assert view["slice"] == full["slice"]
    elif slice_shown:
        # on the published grid: whole steps, S2 cells, never the exact values
        assert set(view) == CONFLICT_KEYS | {"sides", "slice", "disclosure"}
        assert view["slice"] == SliceGrid().slice(full["slice"])
        assert view["slice"]["time_window"] == GRID_WINDOW
        assert view["slice"]["altitude"] == {"lower_m": 1219.2, "upper_m": 2438.4}
        for marker in SLICE_MARKERS:
            assert marker not in text, f"exact slice value {marker} leaked"
    else:
        assert set(view) == CONFLICT_KEYS | {"sides", "time_window", "area", "disclosure"}
        assert view["time_window"] == DAY_WINDOW
        assert view["area"] == {
            "type": "Polygon",
            "coordinates": [[[36, 35], [37, 35], [37, 36], [36, 36], [36, 35]]],
        }
        for marker in SLICE_MARKERS:
            assert marker not in text, f"slice value {marker} leaked"
    assert view["disclosure"] == level
    assert {k: view[k] for k in CONFLICT_KEYS} == {k: full[k] for k in CONFLICT_KEYS}
    assert len(view["sides"]) == 2
    for shown, got, whole in zip(sides, view["sides"], full["sides"], strict=True):
        if shown == S:
            assert got == whole
            assert set(got) == SIDE_KEYS
        else:
            assert got == {"hidden": True}
            for marker in side_markers(whole):
                assert marker not in text, f"hidden side's {marker} leaked"


# ---------------------------------------------------------------------------------------------
# Levels and the policy


def test_level_words_round_trip() -> None:
    assert [lv.text for lv in Level] == ["none", "existence", "conflicts-only", "full"]
    for lv in Level:
        assert Level.parse("x", lv.text) is lv
    assert Level.NONE < Level.EXISTENCE < Level.CONFLICTS_ONLY < Level.FULL


@pytest.mark.parametrize("bad", ["", "FULL", "conflicts_only", "all", " full"])
def test_an_unknown_level_is_refused_with_the_field_and_the_valid_words(bad: str) -> None:
    with pytest.raises(ValidationError) as e:
        Level.parse("disclosure.default", bad)
    (err,) = e.value.errors
    assert err.path == "disclosure.default"
    for word in ("none", "existence", "conflicts-only", "full"):
        assert word in err.reason


def test_policy_defaults_to_conflicts_only_and_is_frozen() -> None:
    p = DisclosurePolicy()
    assert p.default is Level.CONFLICTS_ONLY
    assert dict(p.rules) == {}
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.default = Level.FULL  # type: ignore[misc]
    rules = {(ALPHA, BRAVO): Level.FULL}
    q = DisclosurePolicy(rules=rules)
    rules[(ALPHA, BRAVO)] = Level.NONE  # the caller's dict is copied, not shared
    assert q.rules[(ALPHA, BRAVO)] is Level.FULL
    with pytest.raises(TypeError):
        q.rules[(ALPHA, BRAVO)] = Level.NONE  # type: ignore[index]


def test_with_pair_sets_both_directions_and_with_grant_one() -> None:
    p = DisclosurePolicy().with_pair(ALPHA, BRAVO, Level.EXISTENCE).with_grant(OSCAR, ALPHA, Level.FULL)
    assert dict(p.rules) == {
        (ALPHA, BRAVO): Level.EXISTENCE,
        (BRAVO, ALPHA): Level.EXISTENCE,
        (OSCAR, ALPHA): Level.FULL,
    }
    assert p == DisclosurePolicy(rules=dict(p.rules))
    assert hash(p) == hash(DisclosurePolicy(rules=dict(p.rules)))
    assert DisclosurePolicy().rules == {}  # the helpers return new policies


@pytest.mark.parametrize(
    ("viewer", "subject", "policy", "expected"),
    [
        (PARTIES[ALPHA], ALPHA, DisclosurePolicy(Level.NONE), Level.FULL),  # one's own
        (PARTIES[ALPHA], ALPHA, DisclosurePolicy().with_grant(ALPHA, ALPHA, Level.NONE), Level.FULL),
        (PARTIES[ROOT], ALPHA, DisclosurePolicy().with_grant(ROOT, ALPHA, Level.NONE), Level.FULL),
        (PARTIES[PAPA], ALPHA, DisclosurePolicy(), Level.FULL),  # coalition
        (PARTIES[PAPA], ALPHA, DisclosurePolicy().with_grant(PAPA, ALPHA, Level.NONE), Level.NONE),  # rule first
        (PARTIES[VICTOR], ALPHA, DisclosurePolicy(), Level.CONFLICTS_ONLY),
        (PARTIES[VICTOR], ALPHA, DisclosurePolicy(Level.EXISTENCE), Level.EXISTENCE),
        (PARTIES[OSCAR], ALPHA, DisclosurePolicy(Level.FULL), Level.NONE),  # the default is not for observers
        (PARTIES[OSCAR], ALPHA, DisclosurePolicy().with_grant(OSCAR, ALPHA, Level.EXISTENCE), Level.EXISTENCE),
        (PARTIES[ALPHA], "party-unknown", DisclosurePolicy(), Level.CONFLICTS_ONLY),  # no coalition
        (Party("x-blue", Role.PARTY, "blue"), "party-unknown", DisclosurePolicy(Level.NONE), Level.NONE),
    ],
)
def test_level_order_of_precedence(viewer: Party, subject: str, policy: DisclosurePolicy, expected: Level) -> None:
    assert Disclosure(policy, PARTIES).level(viewer, subject) is expected


# ---------------------------------------------------------------------------------------------
# The matrix


@pytest.mark.parametrize("c", CASES, ids=IDS)
def test_notice_is_seen_whole_or_not_at_all(c: Case) -> None:
    d = disclosure(c)
    view = d.notice_view(c.viewer, NOTICE_ALPHA)
    if c.notice:
        assert view == NOTICE_ALPHA
    else:
        assert view is None


@pytest.mark.parametrize("c", CASES, ids=IDS)
def test_protected_sites_are_public(c: Case) -> None:
    assert disclosure(c).notice_view(c.viewer, SITE) == SITE


@pytest.mark.parametrize("obj", ["with-viewer", "alpha-bravo", "with-site", "others"])
@pytest.mark.parametrize("c", CASES, ids=IDS)
def test_conflict_views_show_exactly_the_policy(c: Case, obj: str) -> None:
    full = objects_for(c.viewer)[obj]
    before = copy.deepcopy(full)
    view = disclosure(c).conflict_view(c.viewer, full)
    check_conflict_view(view, full, c.conflicts[obj])
    assert full == before


@pytest.mark.parametrize("c", [c for c in CASES if c.viewer.role.files_notices], ids=lambda c: c.kind)
def test_a_party_never_sees_a_conflict_it_is_not_on(c: Case) -> None:
    for full in objects_for(c.viewer).values():
        if "sides" not in full:
            continue
        on_it = c.viewer.name in {s["party"] for s in full["sides"]}
        assert (disclosure(c).conflict_view(c.viewer, full) is not None) is on_it


@pytest.mark.parametrize("type_", sorted(NOTICE_EVENTS))
@pytest.mark.parametrize("c", CASES, ids=IDS)
def test_notice_events_follow_the_notice(c: Case, type_: str) -> None:
    d = disclosure(c)
    for n, seen in ((NOTICE_ALPHA, c.notice), (SITE, True)):
        payload = {"notice": n, "content_hash": "sha256-hash-marker", "lead_time_s": 3600.0, "late": False}
        view = d.event_view(c.viewer, type_, payload)
        if seen:
            assert view == payload
        else:
            assert view is None


@pytest.mark.parametrize("type_", sorted(CONFLICT_EVENTS))
@pytest.mark.parametrize("c", CASES, ids=IDS)
def test_conflict_events_carry_the_conflict_view(c: Case, type_: str) -> None:
    d = disclosure(c)
    for obj, full in objects_for(c.viewer).items():
        if obj in ("notice", "site"):
            continue
        view = d.event_view(c.viewer, type_, {"conflict": full})
        expected = c.conflicts[obj]
        if expected is None:
            assert view is None
        else:
            assert view is not None
            assert set(view) == {"conflict"}
            check_conflict_view(view["conflict"], full, expected)


@pytest.mark.parametrize("acker_side", [0, 1])
@pytest.mark.parametrize("c", CASES, ids=IDS)
def test_an_acknowledgement_names_the_acker_only_where_its_side_is_shown(c: Case, acker_side: int) -> None:
    d = disclosure(c)
    for obj, full in objects_for(c.viewer).items():
        if obj in ("notice", "site"):
            continue
        acker = full["sides"][acker_side]["party"]
        payload = {"conflict": full, "party": acker, "ack": "received-and-understood"}
        view = d.event_view(c.viewer, ACK_EVENT, payload)
        expected = c.conflicts[obj]
        if expected is None:
            assert view is None
            continue
        assert view is not None
        if expected == WHOLE:
            assert view == payload
            continue
        assert set(view) == {"conflict", "ack", "party"}
        assert view["ack"] == "received-and-understood"
        check_conflict_view(view["conflict"], full, expected)
        assert isinstance(expected, tuple)
        if expected[acker_side] == S or acker == c.viewer.name:
            assert view["party"] == acker
        else:
            assert view["party"] is None
            assert acker not in dumps(view)


@pytest.mark.parametrize("type_", sorted(PARTY_PRIVATE_EVENTS))
@pytest.mark.parametrize("c", CASES, ids=IDS)
def test_a_partys_webhook_and_token_events_go_to_it_and_the_admin(c: Case, type_: str) -> None:
    payload = {"party": ALPHA, "url": "https://alpha.example/hook-s3cret"}
    view = disclosure(c).event_view(c.viewer, type_, payload)
    if c.viewer.name in (ALPHA, ROOT):
        assert view == payload
    else:
        assert view is None


@pytest.mark.parametrize("type_", ["party.added", "party.revoked", "disclosure.set", "broker.started", "x.future"])
@pytest.mark.parametrize("c", CASES, ids=IDS)
def test_other_events_are_for_the_admin_only(c: Case, type_: str) -> None:
    payload = {"party": c.viewer.name, "detail": "marker-detail"}
    view = disclosure(c).event_view(c.viewer, type_, payload)
    assert (view == payload) if c.viewer.role is Role.ADMIN else (view is None)


# ---------------------------------------------------------------------------------------------
# Fresh copies


def _mutate(x: Any) -> None:
    if isinstance(x, dict):
        for v in x.values():
            _mutate(v)
        x["mutated"] = True
    elif isinstance(x, list):
        for v in x:
            _mutate(v)
        x.append("mutated")


@pytest.mark.parametrize("c", CASES, ids=IDS)
def test_views_are_fresh_copies(c: Case) -> None:
    d = disclosure(c)
    objects = objects_for(c.viewer)
    before = copy.deepcopy(objects)
    views: list[Any] = [d.notice_view(c.viewer, NOTICE_ALPHA), d.notice_view(c.viewer, SITE)]
    for obj in ("with-viewer", "alpha-bravo", "with-site", "others"):
        full = objects[obj]
        views.append(d.conflict_view(c.viewer, full))
        views.append(d.event_view(c.viewer, "conflict.created", {"conflict": full}))
        views.append(d.event_view(c.viewer, ACK_EVENT, {"conflict": full, "party": ALPHA, "ack": "r"}))
    views.append(d.event_view(c.viewer, "notice.filed", {"notice": SITE, "content_hash": "h", "lead_time_s": 1.0}))
    views.append(d.event_view(c.viewer, "webhook.set", {"party": c.viewer.name, "url": "u", "x": {"y": [1]}}))
    for v in views:
        _mutate(v)
    assert objects == before


def test_the_full_forms_of_the_wire_module_are_understood() -> None:
    """The shapes this module reads are the ones ``services.wire`` writes."""
    from deconflict.domain.strategic import VolumeConflict
    from deconflict.services.ports import ConflictRecord, ConflictState
    from deconflict.services.wire import conflict_json

    detail = VolumeConflict(12.34, -5.0, -60.0, OVERLAP, 1000.0, 2000.0, 1443596400.0, 1443600000.0)
    record = ConflictRecord(
        id="c1",
        notice_a="n-alpha",
        party_a=ALPHA,
        version_a=1,
        volume_a=0,
        notice_b="n-bravo",
        party_b=BRAVO,
        version_b=2,
        volume_b=0,
        protected_site=False,
        detail=detail,
        state=ConflictState.OPEN,
        detected_at=1443596400.0,
        updated_at=1443596400.0,
    )
    full = conflict_json(record)
    d = Disclosure(DisclosurePolicy(), PARTIES)
    gridded = {**full, "slice": SliceGrid().slice(full["slice"]), "disclosure": "conflicts-only"}
    assert d.conflict_view(PARTIES[ALPHA], full) == gridded
    hidden = Disclosure(DisclosurePolicy().with_pair(ALPHA, BRAVO, Level.EXISTENCE), PARTIES)
    view = hidden.conflict_view(PARTIES[BRAVO], full)
    assert view is not None
    assert view["sides"][0] == {"hidden": True}
    assert view["time_window"] == {"start": "2015-09-30T00:00:00Z", "end": "2015-10-01T00:00:00Z"}
    assert "n-alpha" not in dumps(view) and ALPHA not in dumps(view)


# ---------------------------------------------------------------------------------------------
# The coarse area


@pytest.mark.parametrize(
    ("geometry", "box"),
    [
        ({"type": "Point", "coordinates": [36.5, 35.5]}, (36, 35, 37, 36)),
        ({"type": "Point", "coordinates": [36.0, 35.0]}, (36, 35, 37, 36)),  # never a degenerate box
        ({"type": "Point", "coordinates": [180.0, 90.0]}, (179, 89, 180, 90)),
        ({"type": "Point", "coordinates": [36.5, 35.5, 1234.5678]}, (36, 35, 37, 36)),  # altitude ignored
        ({"type": "LineString", "coordinates": [[-0.5, -0.5], [0.25, 1.75]]}, (-1, -1, 1, 2)),
        (OVERLAP, (36, 35, 37, 36)),
        (
            {
                "type": "MultiPolygon",
                "coordinates": [
                    [[[10.1, 20.1], [10.2, 20.1], [10.2, 20.2], [10.1, 20.1]]],
                    [[[-3.9, -7.2], [-3.8, -7.2], [-3.8, -7.1], [-3.9, -7.2]]],
                ],
            },
            (-4, -8, 11, 21),
        ),
        (
            {
                "type": "GeometryCollection",
                "geometries": [
                    {"type": "Point", "coordinates": [1.5, 2.5]},
                    {"type": "LineString", "coordinates": [[3.5, 4.5], [5.5, 6.5]]},
                ],
            },
            (1, 2, 6, 7),
        ),
        # Across the antimeridian the box spans every longitude: coarse, but it contains the area.
        ({"type": "LineString", "coordinates": [[179.5, 10.2], [-179.5, 10.4]]}, (-180, 10, 180, 11)),
    ],
)
def test_coarse_area_is_the_bounding_box_rounded_outward_to_whole_degrees(
    geometry: dict[str, Any], box: tuple[int, int, int, int]
) -> None:
    w, s, e, n = box
    assert coarse_area(geometry) == {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


@pytest.mark.parametrize(
    "geometry", [None, {}, {"type": "GeometryCollection", "geometries": []}, {"type": "Point", "coordinates": []}]
)
def test_coarse_area_of_nothing_is_none(geometry: dict[str, Any] | None) -> None:
    assert coarse_area(geometry) is None


# ---------------------------------------------------------------------------------------------
# Properties over random policies, casts, viewers and conflicts

NAMES = [f"p{i}-name-mk" for i in range(6)]
"""Six party names, none a substring of another or of any other value in the inputs."""


def oracle_level(viewer: Party, subject: str, policy: DisclosurePolicy, parties: Mapping[str, Party]) -> Level:
    """The issue's rule, written out independently of the module."""
    if viewer.name == subject or viewer.role is Role.ADMIN:
        return Level.FULL
    if (viewer.name, subject) in policy.rules:
        return policy.rules[(viewer.name, subject)]
    subject_coalition = parties[subject].coalition if subject in parties else None
    if viewer.coalition is not None and viewer.coalition == subject_coalition:
        return Level.FULL
    if viewer.role is Role.OBSERVER:
        return Level.NONE
    return policy.default


@st.composite
def coordinate(draw: st.DrawFn, limit: int) -> float:
    """A coordinate with seven odd decimals, so its text is a marker nothing else contains."""
    degrees = draw(st.integers(0, limit - 1))
    frac = draw(st.integers(1_000_000, 9_999_999).filter(lambda k: k % 10 != 0))
    sign = draw(st.sampled_from(["", "-"]))
    return float(f"{sign}{degrees}.{frac:07d}")


@st.composite
def geometries(draw: st.DrawFn) -> dict[str, Any]:
    def pos() -> list[float]:
        return [draw(coordinate(179)), draw(coordinate(89))]

    kind = draw(st.sampled_from(["Point", "LineString", "Polygon", "MultiPolygon", "GeometryCollection"]))
    if kind == "Point":
        return {"type": kind, "coordinates": pos()}
    if kind == "LineString":
        return {"type": kind, "coordinates": [pos() for _ in range(draw(st.integers(2, 4)))]}

    def ring() -> list[list[float]]:
        r = [pos() for _ in range(3)]
        return [*r, r[0]]

    if kind == "Polygon":
        return {"type": kind, "coordinates": [ring()]}
    if kind == "MultiPolygon":
        return {"type": kind, "coordinates": [[ring()] for _ in range(draw(st.integers(1, 3)))]}
    return {
        "type": kind,
        "geometries": [{"type": "Point", "coordinates": pos()}, {"type": "Polygon", "coordinates": [ring()]}],
    }


@st.composite
def worlds(draw: st.DrawFn) -> tuple[Disclosure, DisclosurePolicy, dict[str, Party], Party, dict[str, Any]]:
    roles = draw(st.lists(st.sampled_from(list(Role)), min_size=6, max_size=6))
    coalitions = draw(st.lists(st.sampled_from([None, "blue", "red"]), min_size=6, max_size=6))
    # Some names are unknown to the broker (judged with no coalition).
    known = draw(st.lists(st.booleans(), min_size=6, max_size=6))
    cast = [Party(n, r, c) for n, r, c in zip(NAMES, roles, coalitions, strict=True)]
    parties = {p.name: p for p, k in zip(cast, known, strict=True) if k}
    default = draw(st.sampled_from(list(Level)))
    rules = draw(
        st.dictionaries(
            st.tuples(st.sampled_from(NAMES), st.sampled_from(NAMES)), st.sampled_from(list(Level)), max_size=12
        )
    )
    policy = DisclosurePolicy(default, rules)
    viewer = cast[draw(st.integers(0, 5))]
    a, b = draw(st.lists(st.integers(0, 5), min_size=2, max_size=2, unique=True))
    site = draw(st.sampled_from([None, 0, 1]))
    sides = [
        {
            "party": NAMES[i],
            "notice": f"nid-{k}-of-{NAMES[i]}",
            "version": 100 + k,
            "volume": k,
            "protected_site": site == k,
        }
        for k, i in enumerate((a, b))
    ]
    full = {
        "id": "cid-0",
        "state": draw(st.sampled_from(["open", "resolved"])),
        "detected_at": "2015-09-30T06:00:01Z",
        "updated_at": "2015-09-30T06:00:02Z",
        "resolved_at": None,
        "sides": sides,
        "slice": {
            "min_distance_m": 4321.8765,
            "vertical_gap_m": -98.7654,
            "time_gap_s": -765.4321,
            "altitude": {"lower_m": 1234.5678, "upper_m": 2345.6789},
            "time_window": dict(WINDOW),
            "overlap": draw(geometries()),
        },
    }
    return Disclosure(policy, parties), policy, parties, viewer, full


def _coords(g: Any) -> list[float]:
    if isinstance(g, dict):
        return [x for v in g.values() for x in _coords(v)]
    if isinstance(g, list):
        return [x for v in g for x in _coords(v)]
    return [g] if isinstance(g, float) else []


def _bbox(g: Any) -> tuple[float, float, float, float]:
    pts: list[tuple[float, float]] = []

    def walk(x: Any) -> None:
        if isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list) and x and isinstance(x[0], float):
            pts.append((x[0], x[1]))
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(g)
    return min(p[0] for p in pts), min(p[1] for p in pts), max(p[0] for p in pts), max(p[1] for p in pts)


@settings(max_examples=400, deadline=None)
@given(worlds())
def test_property_nothing_beyond_the_policy_leaks(world: tuple[Any, ...]) -> None:
    d, policy, parties, viewer, full = world
    before = copy.deepcopy(full)
    view = d.conflict_view(viewer, full)
    assert full == before

    sides = full["sides"]
    levels = [Level.FULL if s["protected_site"] else oracle_level(viewer, s["party"], policy, parties) for s in sides]
    on_it = viewer.name in {s["party"] for s in sides}

    # (4) a party (or authority) sees a conflict exactly when it is a side of it
    if viewer.role.files_notices:
        assert (view is not None) is on_it
        levels = [max(lv, Level.EXISTENCE) for lv in levels]
    elif viewer.role is Role.OBSERVER:
        granted = any(lv >= Level.EXISTENCE for s, lv in zip(sides, levels, strict=True) if not s["protected_site"])
        assert (view is not None) is granted
    else:
        assert view == full
        return
    if view is None:
        return

    text = dumps(view)
    # (1) a side below conflicts-only shows neither its party nor its notice, anywhere in the view
    for s, lv, shown in zip(sides, levels, view["sides"], strict=True):
        if lv <= Level.EXISTENCE:
            assert shown == {"hidden": True}
            assert s["party"] not in text
            assert s["notice"] not in text
        else:
            assert shown == s
    # (2) the overlap's coordinates (and the altitudes and gaps) only when every side is ≥ conflicts-only
    overlap_markers = [repr(x) for x in _coords(full["slice"]["overlap"])]
    if min(levels) >= Level.FULL:
        assert view["slice"] == full["slice"]
        assert view["disclosure"] == "full"
    elif min(levels) >= Level.CONFLICTS_ONLY:
        assert view["slice"] == policy.grid.slice(full["slice"])
        assert view["disclosure"] == "conflicts-only"
        for marker in [*overlap_markers, *SLICE_MARKERS[4:]]:
            assert marker not in text
    else:
        assert "slice" not in view
        assert view["disclosure"] == "existence"
        for marker in [*overlap_markers, *SLICE_MARKERS[4:]]:
            assert marker not in text
        # (3) the coarse area contains the overlap's bounding box, on whole degrees
        (ring,) = view["area"]["coordinates"]
        west, south = ring[0]
        east, north = ring[2]
        assert all(isinstance(v, int) for v in (west, south, east, north))
        w, s_, e, n = _bbox(full["slice"]["overlap"])
        assert west <= w and south <= s_ and east >= e and north >= n
        assert west < east and south < north


@settings(max_examples=200, deadline=None)
@given(worlds(), st.sampled_from([*sorted(CONFLICT_EVENTS), ACK_EVENT]), st.integers(0, 1))
def test_property_conflict_events_leak_no_more_than_the_conflict_view(
    world: tuple[Any, ...], type_: str, acker_side: int
) -> None:
    d, _policy, _parties, viewer, full = world
    acker = full["sides"][acker_side]["party"]
    payload = {"conflict": full, "party": acker, "ack": "received-and-understood"}
    event = d.event_view(viewer, type_, payload)
    view = d.conflict_view(viewer, full)
    if view is None:
        assert event is None
        return
    assert event is not None
    if viewer.role is Role.ADMIN:
        assert event == payload
        return
    assert event["conflict"] == view
    if type_ == ACK_EVENT:
        shown = view["sides"][acker_side] != {"hidden": True}
        assert event["party"] == (acker if shown else None)
        if not shown:
            assert acker not in dumps(event)
    else:
        assert set(event) == {"conflict"}
