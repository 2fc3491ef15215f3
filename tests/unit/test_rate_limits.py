"""``[rate_limits]``: read from the file and the environment, every bad value refused by name; and the
token buckets and the concurrency count of :class:`~deconflict.api.limits.Limiter` on a set clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from clocks import SetClock
from deconflict.api.limits import Limiter, RateLimited
from deconflict.config import load_config, theater_policy
from deconflict.domain.errors import ValidationError
from deconflict.domain.parties import Party, Role
from deconflict.services.rate_settings import RateLimits


def test_the_file_and_the_environment_set_the_limits_and_the_policy_states_them(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text("[rate_limits]\nheavy_per_minute = 2\nheavy_concurrent = 3\nadmin_exempt = false\n")
    config = load_config(f, {"DECONFLICT_RATE_WRITE_BURST": "50"})
    assert config.rate_limits == RateLimits(
        heavy_per_minute=2.0, heavy_concurrent=3, admin_exempt=False, write_burst=50
    )
    assert theater_policy(config)["rate_limits"]["heavy_concurrent"] == 3


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ("heavy_concurrent = 0", "rate_limits.heavy_concurrent", "must be between 1 and 100"),
        ("heavy_burst = 1.5", "rate_limits.heavy_burst", "must be a whole number"),
        ("read_per_s = -1", "rate_limits.read_per_s", "must be between 0.0 and 100000.0"),
        ('write_per_s = "fast"', "rate_limits.write_per_s", "must be a number"),
        ("admin_exempt = 1", "rate_limits.admin_exempt", "must be true or false"),
        ("heavy_per_hour = 1", "rate_limits.heavy_per_hour", "unknown setting"),
    ],
)
def test_a_bad_limit_is_refused_naming_it(tmp_path: Path, text: str, field: str, reason: str) -> None:
    f = tmp_path / "c.toml"
    f.write_text(f"[rate_limits]\n{text}\n")
    with pytest.raises(ValidationError) as e:
        load_config(f, {})
    assert e.value.errors[0].path == field
    assert reason in e.value.errors[0].reason


RU = Party("ru-vks", Role.PARTY)
US = Party("us-af", Role.PARTY)
ROOT = Party("root", Role.ADMIN)


def test_a_bucket_refills_at_its_rate_and_says_when_to_retry() -> None:
    clock = SetClock(100.0)
    limiter = Limiter(RateLimits(read_per_s=0.5, read_burst=2), clock)
    limiter.take(RU, "read")
    limiter.take(RU, "read")
    with pytest.raises(RateLimited) as e:
        limiter.take(RU, "read")
    assert (e.value.limit, e.value.retry_after) == ("read_per_s", 2)
    limiter.take(US, "read")  # its own bucket
    limiter.take(RU, "write")  # another class
    clock.t += 1.0  # half a token: still 1 s to wait
    with pytest.raises(RateLimited) as e:
        limiter.take(RU, "read")
    assert e.value.retry_after == 1
    clock.t += 1.0
    limiter.take(RU, "read")


def test_heavy_requests_are_capped_in_number_and_in_rate_and_the_admin_is_exempt() -> None:
    clock = SetClock(100.0)
    limiter = Limiter(RateLimits(heavy_per_minute=6, heavy_burst=2, heavy_concurrent=1), clock)
    slot = limiter.start_heavy(RU)
    with pytest.raises(RateLimited) as e:
        limiter.start_heavy(RU)
    assert e.value.limit == "heavy_concurrent"
    slot.release()
    slot.release()  # idempotent
    assert limiter.running("ru-vks") == 0
    with limiter.start_heavy(RU):
        pass
    with pytest.raises(RateLimited) as e:
        limiter.start_heavy(RU)
    assert (e.value.limit, e.value.retry_after) == ("heavy_per_minute", 10)
    assert limiter.running("ru-vks") == 0  # a refused request holds no slot
    for _ in range(5):
        with limiter.start_heavy(ROOT):
            pass
    assert Limiter(RateLimits(admin_exempt=False, heavy_burst=1), clock).start_heavy(ROOT) is not None
