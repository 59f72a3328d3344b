"""Sizes and ages as people write them, and the limit $IMAGEKIT_CACHE_MAX_SIZE sets."""

from __future__ import annotations

import pytest

from imagekit.cache import CacheError, configured_limit, format_size, parse_age, parse_size


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1024", 1024),
        ("500M", 500 * 1024**2),
        ("20G", 20 * 1024**3),
        ("20g", 20 * 1024**3),
        ("20GiB", 20 * 1024**3),
        ("20GB", 20 * 1024**3),
        ("1.5T", int(1.5 * 1024**4)),
        (" 64K ", 64 * 1024),
    ],
)
def test_sizes_take_binary_units(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["abc", "", "20X", "-1G", "G", "1e9", "20 G B"])
def test_a_size_that_is_none_says_the_accepted_form(text: str) -> None:
    with pytest.raises(ValueError, match=r"is not a size; give bytes .*e\.g\. 500M or 20G$"):
        parse_size(text)


@pytest.mark.parametrize(
    ("text", "seconds"), [("90m", 5400), ("12h", 43200), ("30d", 2592000), ("2w", 1209600)]
)
def test_ages_take_minutes_hours_days_weeks(text: str, seconds: float) -> None:
    assert parse_age(text) == seconds


@pytest.mark.parametrize("text", ["30", "30x", "d", "thirty days"])
def test_an_age_that_is_none_says_the_accepted_form(text: str) -> None:
    with pytest.raises(ValueError, match=r"is not an age; give .*e\.g\. 12h or 30d$"):
        parse_age(text)


@pytest.mark.parametrize(
    ("size", "shown"),
    [(0, "0B"), (1023, "1023B"), (1536, "1.5K"), (20 * 1024**3, "20.0G"), (3 * 1024**5, "3072.0T")],
)
def test_sizes_are_shown_in_the_largest_unit_under_1024(size: int, shown: str) -> None:
    assert format_size(size) == shown


def test_the_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IMAGEKIT_CACHE_MAX_SIZE", raising=False)
    assert configured_limit() is None
    monkeypatch.setenv("IMAGEKIT_CACHE_MAX_SIZE", "")
    assert configured_limit() is None
    monkeypatch.setenv("IMAGEKIT_CACHE_MAX_SIZE", "2G")
    assert configured_limit() == 2 * 1024**3


def test_a_limit_that_is_no_size_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAGEKIT_CACHE_MAX_SIZE", "lots")
    with pytest.raises(CacheError, match=r"^\$IMAGEKIT_CACHE_MAX_SIZE: 'lots' is not a size; "):
        configured_limit()
