"""Shared pieces of the fuzz tests: hostile snippets spliced into bytes, hostile TOML values,
and a small TOML writer for them."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

STRINGS = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "\x00",
            "1." + "9" * 5000,
            "9" * 5000,
            "a\rb",
            "x\ny",
            "../../etc/passwd",
            "/etc/passwd",
            "sha256:zz",
            "sha256:" + "A" * 64,
            "md5:" + "0" * 32,
            "not a marker ==",
            "python_version >= '3.11' and",
            "===",
            "x" * 3000,
        ]
    ),
)
SCALARS = st.one_of(
    STRINGS,
    st.integers(min_value=-(2**63), max_value=2**63),
    st.booleans(),
    st.floats(allow_nan=True),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(STRINGS, inner, max_size=3)
    ),
    max_leaves=8,
)


def _toml_string(text: str) -> str:
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        elif 0xD800 <= ord(ch) <= 0xDFFF:
            out.append("?")  # TOML cannot hold a lone surrogate
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def to_toml_value(value: Any) -> str:
    """A TOML inline value (strings escaped, tables inline); enough for fuzzed documents."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(to_toml_value(v) for v in value) + "]"
    items = (f"{_toml_string(k)} = {to_toml_value(v)}" for k, v in value.items())
    return "{" + ", ".join(items) + "}"


def to_toml(document: dict[str, Any]) -> str:
    return "".join(f"{_toml_string(k)} = {to_toml_value(v)}\n" for k, v in document.items())


def key_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path of a parsed document (list indexes included)."""
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(key_paths(v, (*prefix, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(key_paths(v, (*prefix, i)))
    return out


def substitute(document: Any, path: tuple[Any, ...], value: Any) -> None:
    target = document
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value


# What an attacker splices in: each has crashed a reader somewhere, or could.
SNIPPETS = [
    b"\x00",
    b"\r",
    b"\r\n",
    b"\\\n",
    b"\n",
    b"\x0b",
    b"\x0c",
    b"\x1c",
    b"\xc2\x85",  # U+0085, a line break to str.splitlines()
    b"\xe2\x80\xa8",  # U+2028
    b"\xef\xbb\xbf",  # a BOM in the middle
    b"\xff\xfe",
    b"\xed\xa0\x80",  # an encoded surrogate: not UTF-8
    b"9" * 5000,
    b"1." + b"0" * 4400,
    b"[" * 300,
    b"{" * 300,
    b"[[package]]\n",
    b"[[packages]]\n",
    b'"',
    b"'",
    b"'''",
    b'"""',
    b"=",
    b"#",
    b";",
    b"@",
    b" --hash=sha256:",
    b"\n-r /etc/passwd\n",
    b"\n-r ../../../etc/passwd\n",
    b"\n-c /dev/zero\n",
    b"\n-r /proc/self/environ\n",
    b"\n-r requirements.txt\n",
    b"file:///etc/passwd",
    b"x" * 2000,
    b"\x1b[2J",
]


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate is not UTF-8: kept so


EDITS = st.lists(
    st.tuples(
        st.floats(min_value=0, max_value=1),
        st.integers(min_value=0, max_value=12),
        st.one_of(st.sampled_from(SNIPPETS), st.text(max_size=6).map(_utf8)),
    ),
    min_size=1,
    max_size=5,
)


def mutate(seed: bytes, edits: list[tuple[float, int, bytes]]) -> bytes:
    """Splice each snippet in at a relative position, deleting a few bytes there."""
    data = seed
    for where, delete, snippet in edits:
        at = int(where * len(data))
        data = data[:at] + snippet + data[at + delete :]
    return data
