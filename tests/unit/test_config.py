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
    f.write_text("[separation]\nhorizontal_m = 5556\n[limits]\nmax_vertices = 50\nmax_window_s = 3600\n")
    cfg = load_config(f, env={"DECONFLICT_TIME_S": "600", "DECONFLICT_DB": "postgresql+psycopg://x@y/z"})
    assert cfg.settings.separation.horizontal_m == 5556 and cfg.settings.separation.time_s == 600
    assert cfg.limits.shape.max_vertices == 50 and cfg.limits.max_window_s == 3600
    assert cfg.db_url == "postgresql+psycopg://x@y/z"


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("[separation]\nhorizontl_m = 1\n", "separation.horizontl_m"),
        ("[separation]\nvertical_m = -1\n", "separation.vertical_m"),
        ("[notice]\nmin_notice_s = 'soon'\n", "notice.min_notice_s"),
        ("separation = 3\n", "separation"),
        ("[separation\n", "config"),
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
