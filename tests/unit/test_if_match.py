"""If-Match on a notice update: the pattern the OpenAPI document states and the parser agree (any
value the pattern allows is a version the parser takes, and nothing else is)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deconflict.api.notices import IF_MATCH, _version
from deconflict.domain.errors import ValidationError


@given(st.from_regex(IF_MATCH))
def test_every_value_the_documented_pattern_allows_is_taken(value: str) -> None:
    version = _version(value)
    assert version is not None and 1 <= version < 10**18


@given(st.text(alphabet='0123456789W/" \t', max_size=24))
def test_the_parser_takes_exactly_what_the_pattern_allows(value: str) -> None:
    allowed = re.search(IF_MATCH, value) is not None
    try:
        _version(value)
    except ValidationError as e:
        assert not allowed, value
        assert e.errors[0].path == "If-Match"
    else:
        assert allowed, value


@pytest.mark.parametrize(("value", "version"), [('"3"', 3), ("3", 3), ('W/"3"', 3), ('"0003"', 3), (" 12 ", 12)])
def test_entity_tags_and_bare_numbers(value: str, version: int) -> None:
    assert _version(value) == version


@pytest.mark.parametrize("value", ['"0"', "", '"-1"', '"3.0"', '"x"', "1" * 19])
def test_what_is_no_version_is_refused_naming_if_match(value: str) -> None:
    with pytest.raises(ValidationError) as e:
        _version(value)
    assert e.value.errors[0].path == "If-Match"
