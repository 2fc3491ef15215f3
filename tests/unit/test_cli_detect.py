"""`deconflict detect`: the tactical engine on one CSV snapshot, offline.

Exit status as `check`: 0 no conflicts, 1 conflicts, 2 bad input.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deconflict.cli import app

runner = CliRunner()

# Rows out of alphabetical order, so id_a < id_b and the sorting are the command's work:
# zulu/alpha: head-on at the same level, 0.5° of longitude apart, closing at 400 m/s (CPA in 139 s,
#   entering the 5 NM zone at 115.8 s); different parties.
# bravo/charlie: 1.1 km apart, same level, same party: a loss of separation that counts only
#   without a party column; delta is 1000 m above them (outside 1000 ft) and of another party.
# echo/foxtrot: 5.6 km apart (inside 5 NM) at the same level: a loss of separation now.
# mike: alone.
SNAPSHOT = """id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps,party
zulu,0,0,10000,200,90,0,ru
alpha,0,0.5,10000,200,270,0,us
mike,10,10,10000,200,0,0,ru
bravo,10,20,5000,0,0,0,ru
charlie,10,20.01,5000,0,0,0,ru
delta,10,20.02,6000,0,0,0,us
foxtrot,-9.95,-20,3000,0,0,0,ru
echo,-10,-20,3000,100,0,0,us
"""


def write(tmp_path: Path, text: str, name: str = "states.csv") -> str:
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def without_party(text: str) -> str:
    return "\n".join(line.rsplit(",", 1)[0] for line in text.strip().splitlines()) + "\n"


def test_conflicts_exit_1_pairs_sorted_with_id_a_before_id_b(tmp_path: Path) -> None:
    out = tmp_path / "pairs.csv"
    r = runner.invoke(app, ["detect", write(tmp_path, SNAPSHOT), "--pairs-out", str(out)])
    assert r.exit_code == 1, r.output
    assert out.read_text() == "id_a,id_b,tcpa_s,dcpa_m\nalpha,zulu,139.0,0.0\necho,foxtrot,55.6,0.0\n"
    assert r.stdout.startswith("2 conflict(s) among 8 aircraft (1 already in loss of separation)")
    assert "rpz 9260 m, hpz 304.8 m, look-ahead 300 s, pairs of different parties" in r.stdout


def test_without_a_party_column_all_pairs_count(tmp_path: Path) -> None:
    r = runner.invoke(app, ["detect", write(tmp_path, without_party(SNAPSHOT))])
    assert r.exit_code == 1, r.output
    assert r.stdout.splitlines() == [
        "id_a,id_b,tcpa_s,dcpa_m",
        "alpha,zulu,139.0,0.0",
        "bravo,charlie,0.0,1095.1",
        "echo,foxtrot,55.6,0.0",
    ]
    assert "3 conflict(s) among 8 aircraft (2 already in loss of separation)" in r.stderr
    assert "all pairs" in r.stderr


def test_no_conflicts_exit_0_with_a_header_only_csv(tmp_path: Path) -> None:
    lone = "id,lat,lon,alt_m,gs_mps,trk_deg,vs_mps\nmike,10,10,10000,200,0,0\nzulu,0,0,10000,200,90,0\n"
    r = runner.invoke(app, ["detect", write(tmp_path, lone)])
    assert r.exit_code == 0, r.output
    assert r.stdout == "id_a,id_b,tcpa_s,dcpa_m\n"
    assert r.stderr.startswith("0 conflict(s) among 2 aircraft")


def test_json_summary_and_pairs(tmp_path: Path) -> None:
    r = runner.invoke(app, ["detect", write(tmp_path, SNAPSHOT), "--json"])
    assert r.exit_code == 1, r.output
    doc = json.loads(r.stdout)
    assert (doc["aircraft"], doc["conflicts"], doc["los"], doc["all_pairs"]) == (8, 2, 1, False)
    assert doc["policy"] == {"rpz_m": 9260.0, "hpz_m": 304.8, "lookahead_s": 300.0}
    assert [(p["id_a"], p["id_b"], p["los"]) for p in doc["pairs"]] == [
        ("alpha", "zulu", False),
        ("echo", "foxtrot", True),
    ]
    assert doc["pairs"][0]["tcpa_s"] == pytest.approx(139.0, abs=0.01)


def test_policy_options_change_the_outcome(tmp_path: Path) -> None:
    path = write(tmp_path, SNAPSHOT)

    def pairs(*opts: str) -> list[str]:
        r = runner.invoke(app, ["detect", path, *opts])
        assert r.exit_code in (0, 1), r.output
        return [",".join(line.split(",")[:2]) for line in r.stdout.splitlines()[1:]]

    assert pairs("--lookahead-s", "100") == ["echo,foxtrot"]  # zulu/alpha enter the zone at 115.8 s
    assert pairs("--hpz-m", "1100") == ["alpha,zulu", "bravo,delta", "charlie,delta", "echo,foxtrot"]
    # echo is 5.56 km from foxtrot, closing at 100 m/s: inside 5 km only after 5.6 s
    assert pairs("--rpz-m", "5000", "--lookahead-s", "5") == []
    assert pairs("--rpz-m", "5000", "--lookahead-s", "6") == ["echo,foxtrot"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rpz-m", "0"], "option --rpz-m: must be a positive number, got 0.0"),
        (["--lookahead-s", "nan"], "option --lookahead-s: must be a positive number, got nan"),
        (
            ["--pairs-out", "/nonexistent/dir/pairs.csv"],
            "--pairs-out /nonexistent/dir/pairs.csv: cannot write: no folder /nonexistent/dir",
        ),
    ],
)
def test_bad_options_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    r = runner.invoke(app, ["detect", write(tmp_path, SNAPSHOT), *args])
    assert r.exit_code == 2
    assert message in r.stderr


def test_bad_csv_exit_2_naming_line_and_column(tmp_path: Path) -> None:
    bad = SNAPSHOT.replace("mike,10,10,10000", "mike,10,10,ten").replace("echo,-10", "echo,-100")
    path = write(tmp_path, bad)
    r = runner.invoke(app, ["detect", path])
    assert r.exit_code == 2
    assert r.stderr.splitlines() == [
        f"{path}:4: alt_m: not a number ('ten')",
        f"{path}:9: lat: latitude -100.0 is outside [-90, 90]",
    ]
    assert r.stdout == ""


def test_missing_file_exit_2(tmp_path: Path) -> None:
    r = runner.invoke(app, ["detect", str(tmp_path / "nope.csv")])
    assert r.exit_code == 2
    assert r.stderr.strip() == f"{tmp_path / 'nope.csv'}: no such file"
