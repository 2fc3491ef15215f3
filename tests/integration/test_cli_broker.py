"""The broker's admin commands (``party``, ``token``, ``disclosure``) on SQLite and on PostgreSQL, run
as an operator would on the broker's host, with their effect checked at a running API."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from api_support import Api, circle_notice
from typer.testing import CliRunner, Result

from deconflict.cli import app
from deconflict.domain.audit import verify_chain

runner = CliRunner()


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every command in the test's own directory, with nothing taken from the caller's environment."""
    monkeypatch.chdir(tmp_path)
    for name in ("DECONFLICT_DB", "DECONFLICT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DECONFLICT_KEY_FILE", str(tmp_path / "broker.key"))
    monkeypatch.setenv("COLUMNS", "200")  # rich tables are not cut to a narrow terminal


def cli(db_url: str, *args: str) -> Result:
    return runner.invoke(app, [*args, "--db", db_url])


def token_of(r: Result) -> str:
    """The one line a command that issues a token prints on stdout."""
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert len(lines) == 1, r.stdout
    assert lines[0].startswith("dcf_")
    return lines[0]


def table_rows(text: str) -> list[list[str]]:
    """The body rows of a rich table, as lists of cell texts."""
    return [[c.strip() for c in line.strip("│").split("│")] for line in text.splitlines() if line.startswith("│")]


@pytest.fixture
def db(db_url: str) -> Iterator[sa.Engine]:
    """A plain engine on the test's database, to look at what the commands stored."""
    engine = sa.create_engine(db_url, poolclass=sa.NullPool)
    yield engine
    engine.dispose()


def every_stored_value(engine: sa.Engine) -> list[Any]:
    meta = sa.MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        return [value for table in meta.sorted_tables for row in conn.execute(sa.select(table)) for value in row]


# ---------------------------------------------------------------------------------------------- party


def test_party_add_prints_exactly_one_token_line_and_stores_only_its_hash(db_url: str, db: sa.Engine) -> None:
    r = cli(db_url, "party", "add", "ru-vks", "--role", "party")
    ru = token_of(r)
    assert r.stderr == "added ru-vks (party)\n"
    r = cli(db_url, "party", "add", "us-af", "--role", "party", "--coalition", "coalition")
    us = token_of(r)
    assert r.stderr == "added us-af (party, coalition coalition)\n"
    assert ru != us

    with db.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM credentials ORDER BY party")).mappings().all()
    assert [(row["party"], row["token_hash"]) for row in rows] == [
        ("ru-vks", hashlib.sha256(ru.encode()).hexdigest()),
        ("us-af", hashlib.sha256(us.encode()).hexdigest()),
    ]
    for row in rows:
        assert ru not in row.values() and us not in row.values()
    # Nowhere else either: not in the event log, not in any table.
    stored = " ".join(map(str, every_stored_value(db)))
    assert ru not in stored and us not in stored


def test_party_add_refuses_bad_input_with_exit_2_naming_the_field(db_url: str) -> None:
    token_of(cli(db_url, "party", "add", "ru-vks", "--role", "party"))
    for args, message in [
        (["ru-vks", "--role", "party"], "name: party 'ru-vks' already exists"),
        (["RU VKS", "--role", "party"], "name: 'RU VKS' is not a valid name"),
        (["us-af", "--role", "party", "--coalition", "Coalition!"], "coalition: 'Coalition!' is not a valid name"),
        (["un-obs", "--role", "observer", "--coalition", "un"], "coalition: "),
        (["root", "--role", "admin", "--coalition", "un"], "coalition: "),
        (["us-af", "--role", "king"], "--role"),
    ]:
        r = cli(db_url, "party", "add", *args)
        assert r.exit_code == 2, (args, r.output)
        assert message in r.stderr, (args, r.stderr)
        assert r.stdout == "", args  # no token for a party that was not added
    listed = json.loads(cli(db_url, "party", "list", "--json").stdout)
    assert [p["name"] for p in listed] == ["ru-vks"]


def test_party_list_shows_every_party_as_a_table_and_as_json(db_url: str) -> None:
    token_of(cli(db_url, "party", "add", "us-af", "--role", "party", "--coalition", "coalition"))
    token_of(cli(db_url, "party", "add", "sy-gcaa", "--role", "authority"))
    token_of(cli(db_url, "party", "add", "un-obs", "--role", "observer"))
    assert cli(db_url, "party", "revoke", "un-obs").exit_code == 0

    r = cli(db_url, "party", "list", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == [
        {"name": "sy-gcaa", "role": "authority", "coalition": None, "revoked": False},
        {"name": "un-obs", "role": "observer", "coalition": None, "revoked": True},
        {"name": "us-af", "role": "party", "coalition": "coalition", "revoked": False},
    ]
    r = cli(db_url, "party", "list")
    assert r.exit_code == 0, r.output
    assert "3 parties" in r.stdout
    assert table_rows(r.stdout) == [
        ["sy-gcaa", "authority", "", "active"],
        ["un-obs", "observer", "", "revoked"],
        ["us-af", "party", "coalition", "active"],
    ]


def test_party_revoke_makes_the_token_fail_with_401_at_a_running_api(api: Api, db_url: str) -> None:
    il = token_of(cli(db_url, "party", "add", "il-af", "--role", "party"))
    me = api.as_("nobody").get("/v1/me", headers={"Authorization": f"Bearer {il}"})
    assert me.status_code == 200 and me.json() == {"party": "il-af", "role": "party", "coalition": None}
    assert api.as_("ru-vks").get("/v1/me").status_code == 200

    r = cli(db_url, "party", "revoke", "ru-vks")
    assert r.exit_code == 0 and r.stdout == "revoked ru-vks\n", r.output
    assert api.as_("ru-vks").get("/v1/me").status_code == 401
    assert api.as_("ru-vks").post("/v1/notices", json=circle_notice()).status_code == 401
    assert api.broker.log_events()[-1].type == "party.revoked"

    r = cli(db_url, "party", "revoke", "nobody")
    assert r.exit_code == 2 and "party 'nobody' does not exist" in r.stderr


def test_token_rotate_retires_the_old_token_and_the_new_one_works(api: Api, db_url: str) -> None:
    old = api.tokens["us-af"]
    new = token_of(cli(db_url, "token", "rotate", "us-af"))
    assert new != old
    assert api.as_("nobody").get("/v1/me", headers={"Authorization": f"Bearer {old}"}).status_code == 401
    me = api.as_("nobody").get("/v1/me", headers={"Authorization": f"Bearer {new}"})
    assert me.status_code == 200 and me.json()["party"] == "us-af"
    assert api.broker.log_events()[-1].type == "token.rotated"

    r = cli(db_url, "token", "rotate", "nobody")
    assert r.exit_code == 2 and "party 'nobody' does not exist" in r.stderr and r.stdout == ""
    assert cli(db_url, "party", "revoke", "us-af").exit_code == 0
    r = cli(db_url, "token", "rotate", "us-af")
    assert r.exit_code == 2 and "name: party 'us-af' is revoked" in r.stderr and r.stdout == ""


# ---------------------------------------------------------------------------------------------- disclosure


def test_disclosure_set_takes_effect_at_the_running_api_and_is_logged(api: Api, db_url: str) -> None:
    ru, us = api.as_("ru-vks"), api.as_("us-af")
    assert ru.post("/v1/notices", json=circle_notice(id="vks-1")).status_code == 201
    assert us.post("/v1/notices", json=circle_notice(id="us-1")).status_code == 201
    [seen] = us.get("/v1/conflicts").json()
    assert seen["disclosure"] == "conflicts-only" and seen["sides"][1]["party"] == "ru-vks"
    assert ru.get("/v1/notices/us-af:us-1").status_code == 404
    start = api.broker.last_seq()

    # One way: us-af now learns only that a conflict exists; ru-vks still sees us-af's side.
    r = cli(db_url, "disclosure", "set", "us-af", "ru-vks", "existence")
    assert r.exit_code == 0 and r.stdout == "us-af sees ru-vks: existence\n", r.output
    [seen] = us.get("/v1/conflicts").json()
    assert seen["disclosure"] == "existence" and {"hidden": True} in seen["sides"] and "slice" not in seen
    assert ru.get("/v1/conflicts").json()[0]["disclosure"] == "conflicts-only"

    # Both ways: each reads the other's notices whole.
    assert cli(db_url, "disclosure", "set", "ru-vks", "us-af", "full", "--both-ways").exit_code == 0
    assert ru.get("/v1/notices/us-af:us-1").status_code == 200
    assert us.get("/v1/notices/ru-vks:vks-1").status_code == 200
    assert us.get("/v1/conflicts").json()[0]["disclosure"] == "full"

    # "default" removes the rule: back to the theater's default between parties.
    assert cli(db_url, "disclosure", "set", "us-af", "ru-vks", "default").exit_code == 0
    assert us.get("/v1/notices/ru-vks:vks-1").status_code == 404
    assert us.get("/v1/conflicts").json()[0]["disclosure"] == "conflicts-only"

    logged = [e for e in api.broker.log_events() if e.seq > start]
    unsalted = [(e.actor, e.type, {k: v for k, v in e.payload.items() if k != "salt"}) for e in logged]
    assert all(len(e.payload["salt"]) == 32 for e in logged)  # see Broker._Tx.log
    assert unsalted == [
        ("admin", "disclosure.set", {"viewer": "us-af", "subject": "ru-vks", "level": "existence"}),
        ("admin", "disclosure.set", {"viewer": "ru-vks", "subject": "us-af", "level": "full"}),
        ("admin", "disclosure.set", {"viewer": "us-af", "subject": "ru-vks", "level": "full"}),
        ("admin", "disclosure.set", {"viewer": "us-af", "subject": "ru-vks", "level": None}),
    ]
    assert verify_chain(api.broker.log_events()) == []

    r = cli(db_url, "disclosure", "list")
    assert r.exit_code == 0, r.output
    assert "default between parties: conflicts-only" in " ".join(r.stdout.split())  # the title wraps
    assert table_rows(r.stdout) == [["ru-vks", "us-af", "full"]]


def test_disclosure_set_refuses_a_bad_level_or_an_unknown_party_with_exit_2(api: Api, db_url: str) -> None:
    start = api.broker.last_seq()
    r = cli(db_url, "disclosure", "set", "us-af", "ru-vks", "secret")
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == "level: 'secret' is not a disclosure level: use one of none, existence, conflicts-only, full\n"
    r = cli(db_url, "disclosure", "set", "us-af", "nobody", "full")
    assert r.exit_code == 2 and "party 'nobody' does not exist" in r.stderr
    assert api.broker.last_seq() == start  # nothing logged, nothing changed
    assert table_rows(cli(db_url, "disclosure", "list").stdout) == []


# ---------------------------------------------------------------------------------------------- report


def test_report_over_the_demo_theater_counts_its_filings_as_json_html_and_table(db_url: str, tmp_path: Path) -> None:
    from deconflict.demo.theater import theater_filings
    from deconflict.domain.policy import NoticePolicy

    assert cli(db_url, "demo", "--once").exit_code == 0
    filings = [f for f in theater_filings() if not f.notice.protected]
    since, until = "2015-09-29T00:00:00Z", "2015-10-02T00:00:00Z"
    r = cli(db_url, "report", "--since", since, "--until", until, "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    rows = {x["party"]: x for x in doc["report"]["parties"]}
    # worked out from the theater file, independently of the broker: filings per party, and those
    # whose activity starts less than the minimum notice after they were filed
    min_notice = NoticePolicy().min_notice_s
    for party in {f.notice.party for f in filings}:
        mine = [f for f in filings if f.notice.party == party]
        assert rows[party]["notices_filed"] == len(mine)
        assert rows[party]["late_notices"] == sum(f.notice.time_start - f.filed_at < min_notice for f in mine)
    # conflicts: every one the demo found (all of them in the period), counted for each party it names
    found = json.loads(cli(db_url, "conflicts", "--all", "--json").stdout)
    assert found
    named = Counter(p for c in found for p in {c["a"]["party"], c["b"]["party"]})
    assert {p: x["conflicts"] for p, x in rows.items() if x["conflicts"]} == dict(named)
    out = tmp_path / "report.html"
    r = cli(db_url, "report", "--since", since, "--until", until, "--format", "html", "--out", str(out))
    assert r.exit_code == 0, r.output
    page = out.read_text()
    assert page.count("<svg") == 2 and "report sha256" not in page
    assert json.loads(r.stdout or "{}") == {} and "recorded in the event log at seq" in r.stderr
    r = cli(db_url, "report", "--since", since, "--until", until)
    assert r.exit_code == 0, r.output
    assert {row[0] for row in table_rows(r.stdout)} >= set(rows)


def test_report_refuses_a_bad_period_with_exit_2_naming_the_option(db_url: str) -> None:
    assert cli(db_url, "db", "upgrade").exit_code == 0  # a report reads a store that is there
    for args, said in (
        (["--until", "2999-01-01T00:00:00Z"], "--until: must not be after"),
        (["--since", "2015-10-02T00:00:00Z", "--until", "2015-10-01T00:00:00Z"], "--since: must be before until"),
        (["--since", "soon"], "--since:"),
        (["--format", "pdf"], "--format: must be table, json or html"),
    ):
        r = cli(db_url, "report", *args)
        assert r.exit_code == 2 and said in r.stderr, (args, r.output)
