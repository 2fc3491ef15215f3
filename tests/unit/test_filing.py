"""The filing use cases on the in-memory store: conflicts, versions, lateness, resolution."""

from __future__ import annotations

import pytest

from builders import circle_notice_of
from deconflict.adapters.memory import MemoryStore
from deconflict.domain.errors import NotFoundError, StaleVersionError, ValidationError
from deconflict.domain.notice_json import parse_notice
from deconflict.domain.policy import Limits
from deconflict.domain.times import parse_time
from deconflict.domain.volumes import NoticeState
from deconflict.services.filing import NoticeService, NotOwnerError
from deconflict.services.ports import ConflictState

START = parse_time("2015-09-30T07:00:00Z", "t")


def service(now: float = START - 4 * 3600) -> tuple[NoticeService, list[float]]:
    clock = [now]
    return NoticeService(MemoryStore(), clock=lambda: clock[0]), clock


def test_two_parties_overlapping_conflict_and_both_see_it() -> None:
    svc, _ = service()
    a = svc.file(parse_notice(circle_notice_of("ru", "a", 34.84, 36.73)))
    b = svc.file(parse_notice(circle_notice_of("us", "b", 34.93, 36.73)))
    assert a.conflicts == []
    assert len(b.conflicts) == 1
    with svc.uow.begin() as repo:
        assert [c.id for c in repo.conflicts_of("a")] == [b.conflicts[0].id]
        assert [c.id for c in repo.conflicts_of("b")] == [b.conflicts[0].id]


def test_same_party_never_conflicts_with_itself() -> None:
    svc, _ = service()
    svc.file(parse_notice(circle_notice_of("ru", "a", 34.84, 36.73)))
    assert svc.file(parse_notice(circle_notice_of("ru", "b", 34.84, 36.73))).conflicts == []


def test_protected_site_conflicts_with_every_party_including_its_filer() -> None:
    from dataclasses import replace

    svc, _ = service()
    site = replace(parse_notice(circle_notice_of("un", "site", 34.73, 36.71, 1000.0)), protected=True)
    svc.file(site)
    r = svc.file(parse_notice(circle_notice_of("un", "own-flight", 34.74, 36.71)))
    assert len(r.conflicts) == 1 and r.conflicts[0].protected_site
    site2 = replace(parse_notice(circle_notice_of("un", "site2", 34.735, 36.71, 1000.0)), protected=True)
    assert [c.notice_b for c in svc.file(site2).conflicts] == ["own-flight"]  # never site vs site


def test_late_notice_is_recorded_not_refused() -> None:
    svc, clock = service(now=START - 3600)
    r = svc.file(parse_notice(circle_notice_of("ru", "a", 34.84, 36.73)))
    assert r.late and r.lead_time_s == pytest.approx(3600)
    clock[0] = START - 3 * 3600
    r2 = svc.file(parse_notice(circle_notice_of("ru", "b", 30.0, 30.0)))
    assert not r2.late and r2.lead_time_s == pytest.approx(3 * 3600)
    assert r.notice.received_at == START - 3600


def test_update_needs_the_current_version_and_clears_conflicts() -> None:
    svc, _ = service()
    svc.file(parse_notice(circle_notice_of("ru", "a", 34.84, 36.73)))
    b = svc.file(parse_notice(circle_notice_of("us", "b", 34.93, 36.73)))
    conflict_id = b.conflicts[0].id
    moved = parse_notice(circle_notice_of("us", "b", 36.0, 36.73))
    with pytest.raises(StaleVersionError) as e:
        svc.update("b", 2, moved)
    assert e.value.current == 1
    r = svc.update("b", 1, moved)
    assert r.notice.version == 2 and r.conflicts == []
    assert [c.id for c in r.resolved] == [conflict_id]
    with svc.uow.begin() as repo:
        (rec,) = repo.conflicts_of("a")
        assert rec.state == ConflictState.RESOLVED and rec.resolved_at is not None
    with pytest.raises(StaleVersionError):
        svc.update("b", 1, moved)


def test_a_conflict_that_persists_through_an_update_keeps_its_id() -> None:
    svc, _ = service()
    svc.file(parse_notice(circle_notice_of("ru", "a", 34.84, 36.73)))
    first = svc.file(parse_notice(circle_notice_of("us", "b", 34.93, 36.73))).conflicts[0]
    again = svc.update("b", 1, parse_notice(circle_notice_of("us", "b", 34.92, 36.73))).conflicts[0]
    assert again.id == first.id and again.version_a == 2
    assert again.detail.min_distance_m == 0.0


def test_only_the_owner_changes_a_notice() -> None:
    svc, _ = service()
    svc.file(parse_notice(circle_notice_of("ru", "a", 34.84, 36.73)))
    with pytest.raises(NotOwnerError):
        svc.update("a", 1, parse_notice(circle_notice_of("us", "a", 34.84, 36.73)))
    with pytest.raises(NotOwnerError):
        svc.set_state("a", "us", NoticeState.CANCELLED)
    with pytest.raises(NotFoundError):
        svc.set_state("nope", "ru", NoticeState.CANCELLED)


def test_duplicate_id_is_refused_with_the_field() -> None:
    svc, _ = service()
    svc.file(parse_notice(circle_notice_of("ru", "a", 34.84, 36.73)))
    with pytest.raises(ValidationError) as e:
        svc.file(parse_notice(circle_notice_of("ru", "a", 30.0, 30.0)))
    assert e.value.errors[0].path == "id"


def test_cancel_resolves_and_removes_from_checks() -> None:
    svc, _ = service()
    svc.file(parse_notice(circle_notice_of("ru", "a", 34.84, 36.73)))
    svc.file(parse_notice(circle_notice_of("us", "b", 34.93, 36.73)))
    r = svc.set_state("a", "ru", NoticeState.CANCELLED, replaces_version=1)
    assert r.notice.state == NoticeState.CANCELLED and len(r.resolved) == 1
    assert svc.file(parse_notice(circle_notice_of("fr", "c", 34.84, 36.73))).conflicts[0].notice_b == "b"
    with pytest.raises(ValidationError):
        svc.set_state("a", "ru", NoticeState.ENDED)


def test_hints_clear_every_conflict_when_applied() -> None:
    svc, _ = service()
    svc.file(parse_notice(circle_notice_of("ru", "a", 34.84, 36.73, hi=4000.0)))
    svc.file(
        parse_notice(
            circle_notice_of("fr", "c", 34.84, 36.73, start="2015-09-30T09:20:00Z", end="2015-09-30T10:00:00Z")
        )
    )
    r = svc.file(parse_notice(circle_notice_of("us", "b", 34.90, 36.73, lo=2000.0, hi=3000.0)))
    assert len(r.conflicts) == 1 and r.hints is not None
    h = r.hints
    assert h.earlier_s is not None and h.later_s is not None and h.up_m is not None and h.down_m is None
    # 2 h window ending 09:00 vs a's 07:00–09:00 (+5 min) → 2 h 5 min earlier, 1 min steps
    assert h.earlier_s == pytest.approx(2 * 3600 + 360)
    # later: past a (09:05) runs into c (09:20–10:00): must clear c too → start after 10:05
    assert h.later_s == pytest.approx(3 * 3600 + 360)
    # a's top 4000 m + 304.8 m must stay below b's new lower 2000 m + Δ: Δ > 2304.8 → 2310 m;
    # down would take b below 0 m, so there is no down hint
    assert h.up_m == pytest.approx(2310)
    for shift in (-h.earlier_s, h.later_s):
        svc2, _ = service()
        svc2.file(parse_notice(circle_notice_of("ru", "a", 34.84, 36.73, hi=4000.0)))
        svc2.file(
            parse_notice(
                circle_notice_of("fr", "c", 34.84, 36.73, start="2015-09-30T09:20:00Z", end="2015-09-30T10:00:00Z")
            )
        )
        moved = parse_notice(circle_notice_of("us", "b", 34.90, 36.73, lo=2000.0, hi=3000.0))
        from dataclasses import replace

        moved = replace(
            moved,
            volumes=tuple(
                replace(v, time_start=v.time_start + shift, time_end=v.time_end + shift) for v in moved.volumes
            ),
        )
        assert svc2.file(moved).conflicts == []


def test_a_protected_site_gets_no_hint_to_move_but_the_notice_does() -> None:
    from dataclasses import replace

    svc, _ = service()
    flight = svc.file(parse_notice(circle_notice_of("ru", "flight", 34.73, 36.71)))
    assert flight.hints is None  # nothing to clear yet
    site = svc.file(replace(parse_notice(circle_notice_of("un", "hospital", 34.73, 36.71, 1000.0)), protected=True))
    assert len(site.conflicts) == 1 and site.hints is None  # a hospital cannot move
    other = svc.file(parse_notice(circle_notice_of("us", "other", 34.74, 36.71)))
    assert other.conflicts and other.hints is not None


def test_a_notice_that_has_ended_is_refused() -> None:
    svc, clock = service()
    clock[0] = START + 10 * 86400
    with pytest.raises(ValidationError) as e:
        svc.file(parse_notice(circle_notice_of("ru", "old", 34.73, 36.71)))
    assert e.value.errors[0].path == "volumes[0].time_end" and "has passed" in e.value.errors[0].reason


def _square(lat: float) -> dict[str, object]:
    vol = circle_notice_of("ru", None, lat, 36.0)["volumes"][0]
    del vol["volume"]["outline_circle"]
    ring = [(lat, 36.0), (lat, 36.1), (lat + 0.1, 36.1), (lat + 0.1, 36.0)]
    vol["volume"]["outline_polygon"] = {"vertices": [{"lat": a, "lng": b} for a, b in ring]}
    return vol


def test_a_notice_over_its_vertex_budget_is_refused_at_the_volume_that_goes_over() -> None:
    limits = Limits(max_vertices_per_notice=10)
    doc = {"party": "ru", "volumes": [_square(30.0), _square(31.0)]}  # 8 vertices
    assert len(parse_notice(doc, limits).volumes) == 2
    doc["volumes"].append(_square(32.0))  # 12
    with pytest.raises(ValidationError) as e:
        parse_notice(doc, limits)
    [err] = e.value.errors
    assert err.path == "volumes[2]"
    assert "12 vertices up to this one, the theater allows 10 in one notice" in err.reason
    # circles count one vertex each: 100 of them are within any sane budget
    many = {"party": "ru", "volumes": [circle_notice_of("ru", None, 30 + i * 0.1, 36)["volumes"][0] for i in range(10)]}
    assert len(parse_notice(many, limits).volumes) == 10
