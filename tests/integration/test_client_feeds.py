"""``deconflict client replay`` and ``deconflict client feed`` against a real broker behind a real
HTTP server, on both stores: the same commands as ``deconflict replay``/``feed`` (tested against a
fake broker in ``test_replay_cli.py`` and ``test_feed_cli.py``), finding the broker and the token as
every client command does: ``--url``/``--token`` before the command, ``DECONFLICT_URL``/
``DECONFLICT_TOKEN``, or a profile of the client file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from api_support import Api
from test_feed_cli import A1, A2, SbsServer, Session
from typer.testing import CliRunner, Result

from deconflict.cli import app
from deconflict.cli.client_feed import FeedRuntime
from deconflict.cli.client_replay import ReplayRuntime
from deconflict.clients.replay import party_of

HOME_KEYS = ("HOME", "XDG_CONFIG_HOME")
LIVE_MARGIN_S = 30.0
"""The broker's (set) clock is put this far ahead of the wall clock for live states: they are then
at most this old when they arrive, well inside its 60 s track timeout, however slow the machine."""


def env_of(api: Api, home: Path, party: str | None, **extra: str) -> dict[str, str]:
    """A party's terminal: DECONFLICT_URL, the party's DECONFLICT_TOKEN (unless ``None``) and a home
    without a client file (unless the test writes one); every other DECONFLICT_ variable cleared."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("DECONFLICT_") or k in HOME_KEYS}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), DECONFLICT_URL=api.url, COLUMNS="200")
    if party is not None:
        env["DECONFLICT_TOKEN"] = api.tokens[party]
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


def invoke(args: list[str], env: dict[str, str], obj: object) -> Result:
    cleared: dict[str, str | None] = {k: None for k in os.environ if k.startswith("DECONFLICT_")}
    return CliRunner().invoke(app, ["client", *args], env={**cleared, **env}, obj=obj)


class BrokerTime:
    """The replay's wall clock, kept just behind the broker's set clock (it moves only when the
    replay sleeps), so re-stamped states are current to the broker."""

    def __init__(self, api: Api) -> None:
        self.now = api.clock() - 10.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def replay_runtime(api: Api) -> ReplayRuntime:
    t = BrokerTime(api)
    return ReplayRuntime(clock=t, sleep=t.sleep)


def write_recording(tmp_path: Path, aircraft: list[str], seconds: int = 3) -> Path:
    """A CSV recording: every aircraft once a second, in pressure altitude, from 2015-09-30."""
    lines = ["time,id,lat,lon,alt_m,alt_ref,gs_mps,trk_deg,vs_mps,callsign"]
    for k in range(seconds):
        for n, a in enumerate(aircraft):
            lines.append(f"{1_443_598_262 + k},{a},{35.0 + n * 0.1},{36.0 + 0.001 * k},10000.0,STD,230.0,90.0,,")
    path = tmp_path / "rec.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def tracks_of(api: Api, party: str) -> set[str]:
    return {t["aircraft"] for t in api.as_(party).get("/v1/tracks").json()}


def write_profile(home: Path, body: str) -> Path:
    config = home / ".config" / "deconflict" / "client.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(body)
    config.chmod(0o600)
    return config


# ----------------------------------------------------------------------------------------- replay


def test_client_replay_finds_the_broker_and_token_in_the_environment(api: Api, tmp_path: Path) -> None:
    path = write_recording(tmp_path, ["a1", "a2"])
    r = invoke(
        ["replay", str(path), "--party", "ru-vks", "--json"], env_of(api, tmp_path, "ru-vks"), replay_runtime(api)
    )
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["sent"] == 6 and summary["accepted"] == 6 and summary["rejected"] == 0
    assert tracks_of(api, "ru-vks") == {"a1", "a2"} and tracks_of(api, "us-af") == set()


def test_client_replay_as_a_real_process_with_the_broker_on_the_wall_clock(api: Api, tmp_path: Path) -> None:
    """As a party types it: ``deconflict client replay`` in its own process, paced in real time."""
    api.clock.t = time.time() + LIVE_MARGIN_S
    path = write_recording(tmp_path, ["a1"])
    r = subprocess.run(
        [sys.executable, "-m", "deconflict", "client", "replay", str(path), "--party", "tr-af", "--speed", "100"],
        env=env_of(api, tmp_path, "tr-af"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert "as 1 party: sent 3, accepted 3, rejected 0" in r.stdout
    assert tracks_of(api, "tr-af") == {"a1"}


def test_client_replay_takes_a_profile_and_the_token_before_the_command(api: Api, tmp_path: Path) -> None:
    path = write_recording(tmp_path, ["b1"])
    token_file = tmp_path / "tr-af.token"
    token_file.write_text(api.tokens["tr-af"] + "\n")
    write_profile(tmp_path, f'[default]\nurl = "{api.url}"\ntoken_file = "{token_file}"\n')
    no_env = {"DECONFLICT_URL": "", "DECONFLICT_TOKEN": ""}
    env = env_of(api, tmp_path, None, **no_env)
    r = invoke(["replay", str(path), "--party", "tr-af", "--json"], env, replay_runtime(api))
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["accepted"] == 3 and tracks_of(api, "tr-af") == {"b1"}

    # The profile's token is checked against --party like any other: nothing is sent as tr-af.
    r = invoke(["replay", str(path), "--party", "ru-vks"], env, replay_runtime(api))
    assert r.exit_code == 2, r.output
    assert "--party ru-vks: the token given for ru-vks is tr-af's" in r.stderr
    assert tracks_of(api, "ru-vks") == set()

    # --token before the command wins over the profile, as for every client command.
    r = invoke(["--token", api.tokens["ru-vks"], "replay", str(path), "--party", "ru-vks"], env, replay_runtime(api))
    assert r.exit_code == 0, r.output
    assert tracks_of(api, "ru-vks") == {"b1"}
    assert api.tokens["ru-vks"] not in r.output and api.tokens["tr-af"] not in r.output


def test_client_replay_keeps_its_own_tokens_for_several_parties(api: Api, tmp_path: Path) -> None:
    aircraft = [f"c{n}" for n in range(12)]
    parties = ["ru-vks", "tr-af"]
    path = write_recording(tmp_path, aircraft, seconds=2)
    tokens = ",".join(f"{p}={api.tokens[p]}" for p in parties)
    # The URL from the environment; DECONFLICT_TOKEN (us-af's) is not used: --token was typed.
    args = ["replay", str(path), "--parties-by-hash", ",".join(parties), "--token", tokens, "--json"]
    r = invoke(args, env_of(api, tmp_path, "us-af"), replay_runtime(api))
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["accepted"] == 24
    for p in parties:
        assert tracks_of(api, p) == {a for a in aircraft if party_of(a, parties) == p}
    assert tracks_of(api, "us-af") == set()


def test_client_replay_refuses_a_url_after_the_command_and_says_where_to_put_it(api: Api, tmp_path: Path) -> None:
    path = write_recording(tmp_path, ["d1"])
    env = env_of(api, tmp_path, "ru-vks")
    r = invoke(["replay", str(path), "--party", "ru-vks", "--url", api.url], env, replay_runtime(api))
    assert r.exit_code == 2
    assert r.stderr.startswith("option --url: under `deconflict client` the broker's URL goes before the command")
    r = invoke(["--url", api.url, "replay", str(path), "--party", "ru-vks"], {**env, "DECONFLICT_URL": ""}, None)
    assert r.exit_code == 0, r.output  # before the command it is the client's --url
    r = invoke(["replay", str(path), "--party", "ru-vks"], {**env, "DECONFLICT_URL": ""}, None)
    assert r.exit_code == 2 and r.stderr.startswith("no broker URL: give --url, set DECONFLICT_URL, or put url in ")


# ------------------------------------------------------------------------------------------- feed


def feed_summary(r: Result) -> dict[str, Any]:
    assert r.exit_code == 0, r.output
    summary: dict[str, Any] = json.loads(r.stdout)
    return summary


def test_client_feed_finds_the_broker_and_token_in_the_environment(
    api: Api, tmp_path: Path, sbs: Callable[..., SbsServer]
) -> None:
    api.clock.t = time.time() + LIVE_MARGIN_S
    server = sbs(Session([A1, A2], rounds=2, every_s=0.2))
    args = ["feed", server.address, "--party", "ru-vks", "--batch-s", "0.2", "--max-seconds", "2", "--json"]
    summary = feed_summary(invoke(args, env_of(api, tmp_path, "ru-vks"), FeedRuntime(backoff_s=0.1)))
    assert summary["party"] == "ru-vks" and summary["error"] is None
    assert summary["sent"] == 4 and summary["rejected"] == 0 and summary["accepted"] >= 2
    assert tracks_of(api, "ru-vks") == {A1.hex_ident.lower(), A2.hex_ident.lower()}


def test_client_feed_takes_a_profile_and_refuses_another_party_s_token(
    api: Api, tmp_path: Path, sbs: Callable[..., SbsServer]
) -> None:
    api.clock.t = time.time() + LIVE_MARGIN_S
    write_profile(tmp_path, f'[tr]\nurl = "{api.url}"\ntoken = "{api.tokens["tr-af"]}"\n')
    env = env_of(api, tmp_path, None, DECONFLICT_URL="", DECONFLICT_TOKEN="")
    refused = sbs(Session([A1]))
    r = invoke(["--profile", "tr", "feed", refused.address, "--party", "us-af"], env, FeedRuntime(backoff_s=0.1))
    assert r.exit_code == 2, r.output
    assert "--party us-af: the token given for us-af is tr-af's" in r.stderr
    assert refused.connections == 0  # refused before the feed is opened

    server = sbs(Session([A2]))
    args = ["--profile", "tr", "feed", server.address, "--party", "tr-af", "--max-seconds", "1", "--json"]
    summary = feed_summary(invoke(args, env, FeedRuntime(backoff_s=0.1)))
    assert summary["party"] == "tr-af" and summary["accepted"] == 1
    assert tracks_of(api, "tr-af") == {A2.hex_ident.lower()}
