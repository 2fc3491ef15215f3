"""Detection runs before the filing lock, on both stores (issue 11 §6): what changed between the
snapshot and the lock is checked again, so a filing's conflicts are exactly those that detection
under the lock would find; two overlapping notices filed at the same moment always conflict."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa
from api_support import Api, circle_notice
from test_api_filing_limits import polygon_volume

from deconflict.adapters.sql.repository import SqlRepository
from deconflict.domain import strategic
from deconflict.domain.parse import parse_notice
from deconflict.domain.volumes import Notice
from deconflict.services import filing_prepare, probes
from deconflict.services import notices as notices_module
from deconflict.services.broker import in_party_namespace
from deconflict.services.filing_flow import Detected, settle, settle_near
from deconflict.services.filing_prepare import prepare


def parsed(party: str, **kw: Any) -> Notice:
    return in_party_namespace(parse_notice(circle_notice(**kw) | {"party": party}))


def detected(api: Api, notice: Notice) -> Detected:
    return prepare(api.broker.core, api.broker.party(notice.party), notice, [], notice).seen


def near_minima(api: Api) -> tuple[Any, Any]:
    return api.broker.settings.separation, api.broker.policy.grid


def settled(api: Api, seen: Detected) -> list[tuple[str | None, int, int]]:
    with api.broker.write() as tx:
        found = settle(tx.repo, seen, api.broker.settings.separation, api.broker.limits)
    return [(c.b.id, c.b.version, c.volume_b) for c in found]


def test_a_notice_filed_after_the_snapshot_is_found_under_the_lock(api: Api) -> None:
    seen = detected(api, parsed("us-af", id="us"))
    assert seen.conflicts == []
    r = api.as_("ru-vks").post("/v1/notices", json=circle_notice(id="ru", lat=35.35))
    assert r.status_code == 201, r.text
    assert settled(api, seen) == [("ru-vks:ru", 1, 0)]


def test_a_notice_cancelled_or_moved_after_the_snapshot_is_checked_again(api: Api) -> None:
    for nid, lat in (("gone", 35.35), ("moves", 35.30), ("stays", 35.33)):
        r = api.as_("ru-vks").post("/v1/notices", json=circle_notice(id=nid, lat=lat))
        assert r.status_code == 201, r.text
    r = api.as_("ru-vks").post("/v1/notices", json=circle_notice(id="comes", lat=37.0))
    assert r.status_code == 201, r.text
    seen = detected(api, parsed("us-af", id="us"))
    assert sorted(c.b.id or "" for c in seen.conflicts) == ["ru-vks:gone", "ru-vks:moves", "ru-vks:stays"]
    # nothing changed: the snapshot's conflicts as they are
    assert sorted(settled(api, seen)) == [("ru-vks:gone", 1, 0), ("ru-vks:moves", 1, 0), ("ru-vks:stays", 1, 0)]
    assert api.as_("ru-vks").delete("/v1/notices/ru-vks:gone").status_code == 200
    away = circle_notice(lat=30.0) | {"replaces_version": 1}
    assert api.as_("ru-vks").put("/v1/notices/ru-vks:moves", json=away).status_code == 200
    near = circle_notice(lat=35.31) | {"replaces_version": 1}
    assert api.as_("ru-vks").put("/v1/notices/ru-vks:comes", json=near).status_code == 200
    assert sorted(settled(api, seen)) == [("ru-vks:comes", 2, 0), ("ru-vks:stays", 1, 0)]


def test_a_notice_changed_far_away_after_the_snapshot_is_not_read_under_the_lock(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading a notice rebuilds its shapes (tens of ms for the heaviest the limits allow): a filing
    settled after a heavy notice was filed elsewhere once read it under the lock only to find it far
    away, which every other party's filing then waited for (issue 11 §6). The volume rows say what
    cannot be near; only the rest is read, and the conflicts are the same."""
    ru = api.as_("ru-vks")
    seen = detected(api, parsed("us-af", id="us"))
    seen_near = Detected(seen.notice, seen.conflicts, seen.seq, {}, probes.widened(*near_minima(api)))
    for nid, lat, start in (("far", 20.0, None), ("later", 35.32, "2015-10-30T07:30:00Z"), ("near", 35.35, None)):
        times = {} if start is None else {"start": start, "end": "2015-10-30T10:30:00Z"}
        assert ru.post("/v1/notices", json=circle_notice(id=nid, lat=lat, **times)).status_code == 201
    read: list[str] = []
    real = SqlRepository._load

    def spy(self: SqlRepository, ids: Any) -> Any:
        ids = list(ids)
        read.extend(ids)
        return real(self, ids)

    monkeypatch.setattr(SqlRepository, "_load", spy)
    monkeypatch.setattr(SqlRepository, "get", lambda self, nid: pytest.fail(f"read {nid} whole"))
    assert settled(api, seen) == [("ru-vks:near", 1, 0)]
    assert read == ["ru-vks:near"]
    read.clear()
    with api.broker.write() as tx:
        assert settle_near(tx.repo, seen_near) == {"ru-vks:near": "ru-vks"}
    assert read == ["ru-vks:near"]


def test_a_probe_flagged_filing_after_the_snapshot_is_checked_again(api: Api) -> None:
    # A notice wider than the probe flag's extent logs notice.filed and then notice.probe_flagged,
    # whose payload names the notice by id only: settling after it once answered 500.
    seen = detected(api, parsed("us-af", id="us"))
    r = api.as_("ru-vks").post("/v1/notices", json=circle_notice(id="wide", radius_km=210))
    assert r.status_code == 201, r.text
    with api.store.begin(write=False) as repo:
        assert [e.type for e in repo.events_after(seen.seq)][-1] == "notice.probe_flagged"
    assert settled(api, seen) == [("ru-vks:wide", 1, 0)]


def test_overlapping_notices_filed_at_the_same_moment_always_conflict(api: Api) -> None:
    rounds = 12
    failures: list[str] = []
    for k in range(rounds):
        lat = 30.0 + 0.5 * k  # each round on its own, far from the others
        start = threading.Barrier(2)

        def file(party: str, dlat: float, k: int = k, lat: float = lat, start: threading.Barrier = start) -> None:
            b = circle_notice(id=f"{party}-{k}")
            b["volumes"] = [polygon_volume(400, lat=lat + dlat, radius_km=10)]  # detection takes a while
            start.wait(30)
            r = api.as_(party).post("/v1/notices", json=b)
            if r.status_code != 201:
                failures.append(r.text)

        threads = [threading.Thread(target=file, args=(p, d)) for p, d in (("us-af", 0.0), ("ru-vks", 0.05))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not failures, failures
        with api.store.begin(write=False) as repo:
            pairs = [{c.notice_a, c.notice_b} for c in repo.open_conflicts_of(f"us-af:us-af-{k}")]
        assert pairs == [{f"us-af:us-af-{k}", f"ru-vks:ru-vks-{k}"}], k


def filing_lock_held(api: Api) -> bool:
    """Whether some transaction holds the filing lock now: another connection tries to take it
    without waiting (SQLite: ``BEGIN IMMEDIATE`` with no busy timeout; PostgreSQL: the lock row
    with a 10 ms lock timeout), then gives it back."""
    engine = api.store.engine
    with engine.connect() as conn:
        try:
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA busy_timeout = 0")
                conn.commit()
            else:
                conn.exec_driver_sql("SET LOCAL lock_timeout = '10ms'")
            conn.exec_driver_sql("UPDATE filing_lock SET n = n WHERE id = 1")
        except sa.exc.OperationalError:
            return True
        finally:
            conn.rollback()
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA busy_timeout = 30000")
                conn.commit()
    return False


def test_the_resolution_hints_and_the_callers_view_are_made_after_the_filing_lock(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hints take exact geometry against every conflicting notice (seconds for the heaviest filing
    the limits allow): under the lock they would stall every other party's filing (issue 11 §6)."""
    assert not filing_lock_held(api)
    with api.broker.write():
        assert filing_lock_held(api)  # the probe sees a held lock
    held: list[bool] = []
    real = filing_prepare.resolution_hints

    def spy(*args: Any, **kwargs: Any) -> Any:
        held.append(filing_lock_held(api))
        return real(*args, **kwargs)

    monkeypatch.setattr(filing_prepare, "resolution_hints", spy)
    assert api.as_("us-af").post("/v1/notices", json=circle_notice(id="us")).status_code == 201
    r = api.as_("uk-raf").post("/v1/notices", json=circle_notice(id="uk", lat=35.35))  # same coalition: hints
    assert r.status_code == 201, r.text
    assert r.json()["hints"] is not None and len(r.json()["conflicts"]) == 1
    assert held == [False]


def test_hints_made_before_the_lock_are_made_again_when_the_conflicts_changed_meanwhile(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert api.as_("us-af").post("/v1/notices", json=circle_notice(id="us")).status_code == 201
    real_detect = notices_module.prepare
    calls: list[int] = []
    real_hints = filing_prepare.resolution_hints

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real_hints(*args, **kwargs)

    def detect_then_a_new_neighbour(*args: Any, **kwargs: Any) -> Any:
        made = real_detect(*args, **kwargs)
        monkeypatch.setattr(notices_module, "prepare", real_detect)  # once
        # Between detection and the lock, the other side files a second conflicting notice, 2 km lower.
        r = api.as_("us-af").post("/v1/notices", json=circle_notice(id="us2", lower_m=1000, upper_m=6000))
        assert r.status_code == 201, r.text
        return made

    monkeypatch.setattr(filing_prepare, "resolution_hints", counting)
    monkeypatch.setattr(notices_module, "prepare", detect_then_a_new_neighbour)
    first = api.as_("uk-raf").post("/v1/notices", json=circle_notice(id="uk", lat=35.35))
    assert first.status_code == 201, first.text
    assert len(first.json()["conflicts"]) == 2
    assert len(calls) == 2  # before the lock for one conflict, then under it for both
    calls.clear()
    again = api.as_("uk-raf").post("/v1/notices", json=circle_notice(id="uk-again", lat=35.35))
    assert len(again.json()["conflicts"]) == 2 and len(calls) == 1  # nothing changed: made once, before
    assert first.json()["hints"] == again.json()["hints"] is not None


@pytest.mark.parametrize("filer", ["uk-raf", "ru-vks"])  # a coalition partner (sees us-af whole), an outsider
def test_no_exact_geometry_runs_under_the_filing_lock_when_nothing_changed_since_detection(
    api: Api, monkeypatch: pytest.MonkeyPatch, filer: str
) -> None:
    """Detection, hints and the probe check (is the filing near a notice the filer does not see
    whole?) all measure distances between shapes; under the lock they would stall every other
    party's filing for as long (seconds for the heaviest filing the limits allow)."""
    assert api.as_("us-af").post("/v1/notices", json=circle_notice(id="us")).status_code == 201
    held: list[bool] = []
    real = strategic.separation

    def spy(*args: Any, **kwargs: Any) -> Any:
        held.append(filing_lock_held(api))
        return real(*args, **kwargs)

    monkeypatch.setattr(strategic, "separation", spy)
    r = api.as_(filer).post("/v1/notices", json=circle_notice(id="near", lat=35.35))
    assert r.status_code == 201, r.text
    assert len(r.json()["conflicts"]) == 1
    assert held and not any(held), f"{held.count(True)} of {len(held)} distance checks ran under the lock"


def test_the_probe_rule_looks_near_under_the_lock_when_the_hidden_conflict_went_away_meanwhile(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A filing that conflicts with a notice the filer does not see whole is charged anyway, so
    the near search is skipped before the lock; if that conflict is gone by the time the lock is
    held, the search runs under it and still finds the hidden notice that is only near."""
    ru = api.as_("ru-vks")
    assert ru.post("/v1/notices", json=circle_notice(id="a", lower_m=3000, upper_m=8000)).status_code == 201
    # 455 m above: clear of the 1000 ft minimum, within it widened by the grid's altitude step.
    assert ru.post("/v1/notices", json=circle_notice(id="b", lower_m=8455, upper_m=9000)).status_code == 201
    real_detect = notices_module.prepare

    def detect_then_cancel(*args: Any, **kwargs: Any) -> Any:
        made = real_detect(*args, **kwargs)
        monkeypatch.setattr(notices_module, "prepare", real_detect)  # once
        assert made.seen.near is None  # a hidden conflict: no near search before the lock
        assert ru.delete("/v1/notices/ru-vks:a").status_code == 200
        return made

    monkeypatch.setattr(notices_module, "prepare", detect_then_cancel)
    before = api.broker.last_seq()
    r = api.as_("us-af").post("/v1/notices", json=circle_notice(id="us", lower_m=3000, upper_m=8000))
    assert r.status_code == 201, r.text
    assert r.json()["conflicts"] == []
    events, _ = api.broker.visible_events(api.broker.party("root"), before)
    charged = [e.data for e in events if e.type == "probe.charged"]
    assert [(c["party"], c["notice"]) for c in charged] == [("us-af", "us-af:us")]


OPENAIR_NEAR_US = """AC R
AN RU BOX
AL FL100
AH FL250
DP 35:10:00 N 036:30:00 E
DP 35:10:00 N 036:50:00 E
DP 35:30:00 N 036:50:00 E
"""


def test_an_import_over_the_api_makes_no_exact_geometry_under_the_filing_lock(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file of many notices is one request: its detection runs before the lock as a filing's
    does, and under it only what changed meanwhile is checked (issue 11 §6)."""
    assert api.as_("us-af").post("/v1/notices", json=circle_notice(id="us")).status_code == 201
    held: list[bool] = []
    real = strategic.separation

    def spy(*args: Any, **kwargs: Any) -> Any:
        held.append(filing_lock_held(api))
        return real(*args, **kwargs)

    monkeypatch.setattr(strategic, "separation", spy)
    r = api.as_("ru-vks").post(
        "/v1/imports/openair",
        content=OPENAIR_NEAR_US.encode(),
        headers={"Content-Type": "text/plain"},
        params={"start": "2015-09-30T07:00Z", "end": "2015-09-30T11:00Z"},
    )
    assert r.status_code == 201, r.text
    [filed] = r.json()["filed"]
    assert len(filed["filing"]["conflicts"]) == 1
    assert held and not any(held), f"{held.count(True)} of {len(held)} distance checks ran under the lock"
