"""Typed getters for the image format's JSON: each raises `OciError` naming where and which
field, so every `from_dict` in this package reads alike."""

from __future__ import annotations

from typing import Any

from imagekit.image.errors import OciError


def as_object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise OciError(f"{where}: not a JSON object")
    return value


def as_list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise OciError(f"{where}: not a JSON list")
    return value


def array(d: dict[str, Any], key: str, where: str) -> list[Any]:
    value = d.get(key)
    if not isinstance(value, list):
        raise OciError(f"{where}: {key!r} must be an array")
    return value


def text(d: dict[str, Any], key: str, where: str) -> str:
    value = d.get(key)
    if not isinstance(value, str) or not value:
        raise OciError(f"{where}: {key!r} must be a non-empty string")
    return value


def str_list(d: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = d.get(key) or []
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise OciError(f"{where}: {key} is not a list of strings")
    return tuple(value)


def str_map(d: dict[str, Any], key: str, where: str) -> tuple[tuple[str, str], ...]:
    value = d.get(key) or {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise OciError(f"{where}: {key!r} must map strings to strings")
    return tuple(sorted((str(k), v) for k, v in value.items()))
