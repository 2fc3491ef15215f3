"""Detection runs before the filing lock, on both stores (issue 11 §6): what changed between the
snapshot and the lock is checked again, so a filing's conflicts are exactly those that detection
under the lock would find; two overlapping notices filed at the same moment always conflict."""

from __future__ import annotations

import threading
from typing import Any

from api_support import Api, circle_notice
from test_api_filing_limits import polygon_volume

from deconflict.domain.parse import parse_notice
from deconflict.domain.volumes import Notice
from deconflict.services.broker import in_party_namespace
from deconflict.services.filing_flow import Detected, detect_unlocked, settle


def parsed(party: str, **kw: Any) -> Notice:
    return in_party_namespace(parse_notice(circle_notice(**kw) | {"party": party}))


def detected(api: Api, notice: Notice) -> Detected:
    return detect_unlocked(api.store, notice, api.broker.settings.separation)


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
