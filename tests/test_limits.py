"""The shared bounds on input: nesting, size, digits, and what a message may echo."""

from __future__ import annotations

import contextlib
import json
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imagekit.errors import InputError
from imagekit.limits import (
    MAX_ECHO,
    MAX_JSON_DEPTH,
    MAX_TOML_DEPTH,
    check_toml_depth,
    check_version_text,
    json_depth_exceeds,
    load_json,
    shown,
)


def test_shown_keeps_one_line_and_no_escape_bytes() -> None:
    text = shown("torch\nFORGED: ok\x1b[2J\r\u202e\u2028")
    assert "\n" not in text
    assert "\r" not in text
    assert "\x1b" not in text
    assert "\u202e" not in text
    assert "\u2028" not in text
    assert text.startswith("torch\\nFORGED: ok\\x1b[2J")


def test_shown_cuts_long_text_and_says_how_long() -> None:
    text = shown("x" * 1_000_000)
    assert text.endswith("… (1000000 characters)")
    assert len(text) < MAX_ECHO + 40


def test_shown_escapes_surrogates_from_undecodable_file_names() -> None:
    name = b"model-\xff.bin".decode("utf-8", "surrogateescape")
    text = shown(name)
    text.encode("utf-8")  # printable on any UTF-8 terminal
    assert text == "model-\\udcff.bin"


def test_deep_json_is_one_error_not_a_recursion_error() -> None:
    with pytest.raises(InputError, match=r"^plan\.json: JSON nested deeper than 128 levels"):
        load_json("[" * 100_000 + "]" * 100_000, "plan.json")


def test_json_at_the_depth_limit_is_read() -> None:
    data = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert load_json(data, "ok.json") is not None
    assert json_depth_exceeds("[" * (MAX_JSON_DEPTH + 1))


def test_brackets_inside_json_strings_do_not_count() -> None:
    data = json.dumps({"name": "[" * 10_000, "quote": 'a\\"[[[['})
    assert load_json(data, "ok.json")["name"] == "[" * 10_000


def test_huge_json_integer_is_refused_with_the_file() -> None:
    with pytest.raises(InputError, match=r"^config\.json: unreadable JSON: integer of 5000 digits"):
        load_json('{"size": ' + "9" * 5000 + "}", "config.json")


def test_oversized_and_malformed_json_name_the_file_and_line() -> None:
    with pytest.raises(InputError, match=r"larger than the limit of 10"):
        load_json(b"{" + b" " * 20 + b"}", Path("index.json"), max_bytes=10)
    with pytest.raises(InputError, match=r"^index\.json:2: malformed JSON: Expecting value"):
        load_json('{\n"a": }', Path("index.json"))
    with pytest.raises(InputError, match=r"not UTF-8 JSON"):
        load_json(b'{"a": "\xff"}', Path("index.json"))


def test_deep_toml_is_refused_before_tomllib_recurses() -> None:
    text = "a = " + "[" * 5000 + "]" * 5000
    with pytest.raises(InputError, match=r"^uv\.lock: TOML nested deeper than 64 levels"):
        check_toml_depth(text, "uv.lock")


def test_toml_brackets_in_strings_and_comments_do_not_count() -> None:
    deep = "[" * (MAX_TOML_DEPTH + 5)
    text = (
        f'a = "{deep}"\nb = \'{deep}\'\nc = """\n{deep}\n"""\n# {deep}\n[[package]]\nname = "x"\n'
    )
    check_toml_depth(text, "ok.toml")
    assert tomllib.loads(text)["package"][0]["name"] == "x"


def test_version_longer_than_the_limit_is_refused() -> None:
    check_version_text("2.5.1+cu124", "requirements.txt")
    with pytest.raises(InputError, match=r"version of 5000 characters \(1111"):
        check_version_text("1" * 5000, "requirements.txt")


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.text(max_size=400))
def test_load_json_gives_a_value_or_an_input_error(data: str) -> None:
    try:
        load_json(data, "fuzz.json")
    except InputError as e:
        assert "\n" not in str(e)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.text(alphabet="[]{}\"'#\\\n ab=", max_size=300))
def test_toml_depth_check_never_crashes(data: str) -> None:
    with contextlib.suppress(InputError):
        check_toml_depth(data, "fuzz.toml", limit=8)
