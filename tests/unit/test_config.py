from pathlib import Path

import pytest

from deconflict.config import db_url, load_config
from deconflict.domain.errors import ValidationError


def test_defaults_are_the_fields_conventions() -> None:
    cfg = load_config(env={})
    assert cfg.settings.separation.horizontal_m == pytest.approx(9260)
    assert cfg.settings.separation.vertical_m == pytest.approx(304.8)
    assert cfg.settings.separation.time_s == 300
    assert cfg.settings.notice.min_notice_s == 3 * 3600
    assert cfg.limits.shape.max_vertices == 1000 and cfg.limits.max_window_s == 7 * 86400
    assert cfg.db_url == "sqlite:///deconflict.sqlite"


def test_file_and_environment(tmp_path: Path) -> None:
    f = tmp_path / "theater.toml"
    f.write_text(
        "[separation]\nhorizontal_m = 5556\n[limits]\nmax_vertices = 50\nmax_window_s = 3600\n"
        "max_schedule_span_s = 86400\n"
    )
    cfg = load_config(f, env={"DECONFLICT_TIME_S": "600", "DECONFLICT_DB": "postgresql+psycopg://x@y/z"})
    assert cfg.settings.separation.horizontal_m == 5556 and cfg.settings.separation.time_s == 600
    assert cfg.limits.shape.max_vertices == 50 and cfg.limits.max_window_s == 3600
    assert cfg.limits.max_schedule_span_s == 86400
    assert cfg.db_url == "postgresql+psycopg://x@y/z"


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("[separation]\nhorizontl_m = 1\n", "separation.horizontl_m"),
        ("[separation]\nvertical_m = -1\n", "separation.vertical_m"),
        ("[notice]\nmin_notice_s = 'soon'\n", "notice.min_notice_s"),
        ("separation = 3\n", "separation"),
        ("[separation\n", "config"),
        ("[limits]\nmax_schedule_span_s = 31622401\n", "limits.max_schedule_span_s"),  # a second past 366 days
    ],
)
def test_bad_settings_name_the_key(tmp_path: Path, text: str, path: str) -> None:
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(ValidationError) as e:
        load_config(f, env={})
    assert e.value.errors[0].path == path


def test_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(ValidationError) as e:
        load_config(env={"DECONFLICT_HORIZONTAL_M": "five"})
    assert e.value.errors[0].path == "DECONFLICT_HORIZONTAL_M"


def test_db_url_from_a_path() -> None:
    assert db_url("/tmp/x.sqlite", {}) == "sqlite:////tmp/x.sqlite"
    assert db_url(None, {"DECONFLICT_DB": "sqlite:///a.db"}) == "sqlite:///a.db"


def test_broker_sections(tmp_path: Path) -> None:
    from deconflict.domain.disclosure_policy import Level

    f = tmp_path / "theater.toml"
    f.write_text(
        "[disclosure]\n"
        'default = "existence"\n'
        'pairs = [{parties = ["us-af", "ru-vks"], level = "conflicts-only"}]\n'
        'grants = [{viewer = "un-obs", subject = "ru-vks", level = "full"}]\n'
        "[audit]\n"
        'key_file = "keys/broker.key"\n'
        "[server]\n"
        'host = "0.0.0.0"\n'
        "port = 9000\n"
        "max_body_bytes = 2000\n"
        "[auth.jwt]\n"
        'issuer = "https://idp"\n'
        'audience = "deconflict"\n'
        'jwks_url = "https://idp/jwks.json"\n'
    )
    cfg = load_config(f, env={})
    assert cfg.disclosure.default is Level.EXISTENCE
    assert cfg.disclosure.rules == {
        ("us-af", "ru-vks"): Level.CONFLICTS_ONLY,
        ("ru-vks", "us-af"): Level.CONFLICTS_ONLY,
        ("un-obs", "ru-vks"): Level.FULL,
    }
    assert cfg.key_file == "keys/broker.key"
    assert (cfg.server.host, cfg.server.port, cfg.server.max_body_bytes) == ("0.0.0.0", 9000, 2000)
    assert cfg.jwt is not None and cfg.jwt.jwks_url == "https://idp/jwks.json" and cfg.jwt.party_claim == "party"
    assert load_config(f, env={"DECONFLICT_KEY_FILE": "/k"}).key_file == "/k"
    defaults = load_config(env={})
    assert defaults.jwt is None and defaults.key_file == "deconflict-broker.key"
    assert defaults.disclosure.default is Level.CONFLICTS_ONLY and not defaults.disclosure.rules


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ('[disclosure]\ndefault = "some"\n', "disclosure.default"),
        ("[disclosure]\nfoo = 1\n", "disclosure.foo"),
        ('[disclosure]\npairs = [{parties = ["a"], level = "full"}]\n', "disclosure.pairs[0].parties"),
        ('[disclosure]\npairs = [{parties = ["a", "b"], level = "most"}]\n', "disclosure.pairs[0].level"),
        (
            '[disclosure]\ngrants = [{viewer = "Bad Name", subject = "b", level = "full"}]\n',
            "disclosure.grants[0].viewer",
        ),
        ("[disclosure]\ngrants = 3\n", "disclosure.grants"),
        ("[audit]\nkey = 1\n", "audit.key"),
        ("[audit]\nkey_file = 1\n", "audit.key_file"),
        ("[server]\nport = -1\n", "server.port"),
        ("[server]\nport = 70000\n", "server.port"),
        ("[server]\nport = 8000.9\n", "server.port"),
        ("[server]\nevents_poll_s = 0\n", "server.events_poll_s"),
        ("[server]\nmax_body_bytes = 0\n", "server.max_body_bytes"),
        ("[seperation]\nhorizontal_m = 20000\n", "seperation"),
        ('[auth.jwk]\nissuer = "x"\n', "auth.jwk"),
        ("[tactical]\nrun_cycles = 1\n", "tactical.run_cycles"),
        ("[tactical]\nrpz_m = 0\n", "tactical.rpz_m"),
        ("[tactical]\nlookahead = 60\n", "tactical.lookahead"),
        ("[server]\nhost = 3\n", "server.host"),
        ('[auth.jwt]\nissuer = "x"\n', "auth.jwt.audience"),
        ('[auth.jwt]\nissuer = "x"\naudience = "y"\n', "auth.jwt.jwks_file"),
        ('[auth.jwt]\nissuer = "x"\naudience = "y"\njwks_file = "a"\njwks_url = "b"\n', "auth.jwt.jwks_file"),
        ('[auth.jwt]\nissuer = "x"\naudience = "y"\njwks_file = "a"\nclaim = "p"\n', "auth.jwt.claim"),
        ("[hotline]\nescalation_s = 1\n", "hotline.escalation_s"),
        ("[hotline]\nescalation_interval_s = 0\n", "hotline.escalation_interval_s"),
        ("[hotline]\nauto_threads = 'yes'\n", "hotline.auto_threads"),
        ("[hotline]\nconflict_ack_s = 'an hour'\n", "hotline.conflict_ack_s"),
        ("[hotline]\nconflict_ack_tiers = 3\n", "hotline.conflict_ack_tiers"),
        ("[hotline]\nconflict_ack_tiers = [{starts_within_s = 60}]\n", "hotline.conflict_ack_tiers[0].ack_within_s"),
        (
            "[hotline]\nconflict_ack_tiers = [{starts_within_s = 60, ack_within_s = 9, by = 1}]\n",
            "hotline.conflict_ack_tiers[0].by",
        ),
        ("[hotline]\nalert_ack_s = {severe = 30}\n", "hotline.alert_ack_s.severe"),
        ("[hotline]\nalert_ack_s = {loss = -1}\n", "hotline.alert_ack_s.loss"),
        ("[hotline]\nalert_ack_s = 60\n", "hotline.alert_ack_s"),
        ("[tactical]\noverhead_m = -5\n", "tactical.overhead_m"),
        ("[tactical]\ncycle_min_gap_s = 0\n", "tactical.cycle_min_gap_s"),
        ("[tactical]\ncycle_min_gap_s = -0.1\n", "tactical.cycle_min_gap_s"),
        ("[tactical]\ncycle_min_gap_s = 'fast'\n", "tactical.cycle_min_gap_s"),
        ("[tactical]\ncycle_min_gap_s = true\n", "tactical.cycle_min_gap_s"),
        ("[tactical]\ncycle_min_gap_s = nan\n", "tactical.cycle_min_gap_s"),
        ("[tactical]\ncycle_s = 1\ncycle_min_gap_s = 1.5\n", "tactical.cycle_min_gap_s"),
    ],
)
def test_bad_broker_settings_name_the_key(tmp_path: Path, text: str, path: str) -> None:
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(ValidationError) as e:
        load_config(f, env={})
    assert e.value.errors[0].path == path


def test_tactical_section(tmp_path: Path) -> None:
    f = tmp_path / "theater.toml"
    f.write_text("[tactical]\nrpz_m = 5556\nlookahead_s = 120\nrun_cycles = false\nall_pairs = true\n")
    t = load_config(f, env={}).tactical
    assert (t.rpz_m, t.lookahead_s, t.run_cycles, t.all_pairs) == (5556, 120, False, True)
    assert t.policy.rpz_m == 5556 and load_config(env={}).tactical.run_cycles is True
    assert (t.cycle_s, t.cycle_min_gap_s) == (1.0, 0.2)  # the defaults
    f.write_text("[tactical]\ncycle_s = 30\ncycle_min_gap_s = 0.5\n")
    t = load_config(f, env={}).tactical
    assert (t.cycle_s, t.cycle_min_gap_s) == (30.0, 0.5)
    f.write_text("[tactical]\ncycle_s = 0.1\n")  # a period below the default gap, the gap not given: it follows
    t = load_config(f, env={}).tactical
    assert (t.cycle_s, t.cycle_min_gap_s) == (0.1, 0.1)


def test_hotline_section(tmp_path: Path) -> None:
    f = tmp_path / "theater.toml"
    f.write_text(
        "[hotline]\nescalation_interval_s = 120\nauto_threads = false\nconflict_ack_s = 7200\n"
        "conflict_ack_tiers = [{starts_within_s = 3600, ack_within_s = 300},\n"
        "  {starts_within_s = 21600, ack_within_s = 900}]\n"
        "alert_ack_s = {loss = 30}\n"
        "[tactical]\noverhead_m = 1500\n"
    )
    cfg = load_config(f, env={})
    h = cfg.hotline
    assert (h.escalation_interval_s, h.auto_threads, h.conflict_ack_s) == (120, False, 7200)
    # the tightest tier that the conflict's start falls in, then conflict_ack_s
    assert [h.conflict_deadline_s(s) for s in (600, 3600, 7200, 21600, 30000)] == [300, 300, 900, 900, 7200]
    # a severity not named keeps its default
    assert h.alert_deadline_s("loss") == 30 and h.alert_deadline_s("low") == 60
    assert cfg.tactical.overhead_m == 1500
    d = load_config(env={}).hotline
    assert d.escalation_interval_s == 300 and d.auto_threads is True and d.conflict_deadline_s(3600) == 900


def test_the_grid_and_the_probe_budget_are_theater_policy(tmp_path: Path) -> None:
    from deconflict.config import theater_policy

    f = tmp_path / "theater.toml"
    f.write_text(
        "[disclosure.grid]\ns2_level = 9\naltitude_m = 500\ntime_s = 1800\n"
        "[disclosure.probes]\nbudget = 3\nperiod_s = 3600\n"
    )
    cfg = load_config(f, env={})
    grid, probes = cfg.disclosure.grid, cfg.disclosure.probes
    assert (grid.s2_level, grid.altitude_m, grid.time_s, grid.existence_time_s) == (9, 500, 1800, 86400)
    assert (probes.budget, probes.period_s, probes.flag_notices) == (3, 3600, 5)
    shown = theater_policy(cfg)["disclosure"]
    assert shown["grid"]["s2_level"] == 9 and shown["grid"]["cell_size_m"] > 15000
    assert shown["probes"]["budget"] == 3


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("[disclosure.grid]\ns2_level = 25\n", "disclosure.grid.s2_level"),
        ("[disclosure.grid]\ns2_level = 9.5\n", "disclosure.grid.s2_level"),
        ("[disclosure.grid]\ntime_s = 0\n", "disclosure.grid.time_s"),
        ("[disclosure.grid]\ncell_m = 10\n", "disclosure.grid.cell_m"),
        ("[disclosure.probes]\nbudget = 0\n", "disclosure.probes.budget"),
        ("[disclosure.probes]\nperiod_s = -1\n", "disclosure.probes.period_s"),
        ("[disclosure]\nprobe = 3\n", "disclosure.probe"),
    ],
)
def test_bad_grid_or_probe_settings_name_the_key(tmp_path: Path, text: str, path: str) -> None:
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(ValidationError) as e:
        load_config(f, env={})
    assert e.value.errors[0].path == path
