"""``deconflict demo`` runs the 2015 theater live until Ctrl-C: with a party's token from its
printed login link, the API shows the notices (filed on the broker's clock, late ones late), the
conflicts, the party's aircraft moving, alerts (an aircraft leaving its volume, then a predicted
loss of separation between two parties' aircraft) and the hotline's threads; Ctrl-C stops it
cleanly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from e2e.live_demo_support import start_demo, wait_for

SPEED = "60"  # an hour of the theater a minute


def test_the_live_demo_plays_the_theater_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    demo = start_demo(tmp_path, "--speed", SPEED)
    try:
        assert set(demo.links) == {"coalition", "ru-vks", "un-humanitarian", "sy-gcaa"}
        assert demo.url.startswith("http://127.0.0.1:")  # loopback only, by default
        coalition, ru = demo.as_("coalition"), demo.as_("ru-vks")
        assert coalition.get("/v1/me").json()["party"] == "coalition"

        # The Russian notices reach the broker on its clock, after the start, late.
        filed = demo.wait_line(lambda s: "filed ru-vks:vks-homs-north" in s, 120)
        assert filed.startswith("06:00:") and "(late)" in filed

        def notices() -> list[dict[str, Any]]:
            got: list[dict[str, Any]] = ru.get("/v1/notices").json()
            return got if any(n["id"] == "ru-vks:vks-transit-latakia" for n in got) else []

        mine = wait_for("Russian transit notice", notices)
        assert {n["party"] for n in mine} == {"ru-vks"}  # the others' notices are not disclosed to it
        sites = ru.get("/v1/protected-sites").json()
        assert {s["id"] for s in sites} >= {"un-humanitarian:site-homs-hospital", "sy-gcaa:site-osdi-approach"}
        conflicts = wait_for("conflict", lambda: coalition.get("/v1/conflicts").json())
        assert any({s["party"] for s in c["sides"]} == {"coalition", "ru-vks"} for c in conflicts)

        # The coalition's aircraft move: a later picture has them elsewhere.
        first = wait_for("coalition aircraft", lambda: coalition.get("/v1/tracks").json())
        assert {t["party"] for t in first} == {"coalition"}
        before = {t["aircraft"]: (t["lat"], t["lon"]) for t in first}

        def moved() -> bool:
            now = {t["aircraft"]: (t["lat"], t["lon"]) for t in coalition.get("/v1/tracks").json()}
            return any(a in now and now[a] != p for a, p in before.items())

        wait_for("aircraft moving", moved)

        # Hotline threads about the conflicts, answered on time and late, one overdue.
        threads = wait_for("hotline messages", lambda: coalition.get("/v1/messages").json())
        assert all(m["from"] == "broker" for m in threads)

        def overdue() -> bool:
            ms = demo.as_("un-humanitarian").get("/v1/messages").json()
            return any(r["standing"] == "overdue" for m in ms for r in m["to"] if r["party"] == "un-humanitarian")

        wait_for("overdue thread", overdue)

        # Alerts: the aircraft leaving its volume, then the two parties' aircraft converging.
        alerts = wait_for("alert", lambda: coalition.get("/v1/alerts").json())
        assert any(a["kind"] == "nonconformance" and a["sides"][0]["aircraft"] == "c-dez-1" for a in alerts)

        def loss() -> list[dict[str, Any]]:
            return [a for a in ru.get("/v1/alerts").json() if a["kind"] == "separation"]

        [pair, *_] = wait_for("predicted loss of separation", loss)
        assert {s["party"] for s in pair["sides"] if "party" in s} <= {"coalition", "ru-vks"}
    finally:
        rc, err = demo.stop()
    assert rc == 0, err
    assert "Traceback" not in err and err.strip() == "", err
    assert demo.lines[-1] == "demo stopped; its store is removed"


def test_a_later_start_files_and_answers_what_came_before_it_at_its_own_time(tmp_path: Path) -> None:
    demo = start_demo(tmp_path, "--start", "2015-09-30T06:30:00Z")
    try:
        un = demo.as_("un-humanitarian")
        now = un.get("/console/now").json()
        assert now["now"].startswith("2015-09-30T06:3") and now["rate"] == 10.0
        threads = un.get("/v1/messages").json()
        mine = [r for m in threads for r in m["to"] if r["party"] == "un-humanitarian"]
        # the 06:14 answer was given at 06:14, before the start: on time, not late
        assert {(r["state"], r["standing"]) for r in mine} >= {("understood", "on-time")}
        notices = demo.as_("ru-vks").get("/v1/notices").json()
        received = {n["id"]: n["received_at"] for n in notices}
        assert received["ru-vks:vks-transit-latakia"] == "2015-09-30T06:10:00Z"  # at its time, not at the start
    finally:
        rc, err = demo.stop()
    assert rc == 0, err
