"""The bake file check: the attributes and types of buildx's `Target` and `Group`, each
wrong document refused in one line that names the file and the attribute."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from imagekit.build.bakefile import BUILDX_COMMIT, TARGET, BakeFileError, Kind, validate_bake

WHERE = Path("docker-bake.json")


def document() -> dict[str, Any]:
    """A bake file as `imagekit bake --cache --attest --base-registry` writes one."""
    return {
        "group": {"default": {"targets": ["iris-a", "iris-b"]}},
        "target": {
            name: {
                "context": f"{name}/.imagekit/bake-context",
                "dockerfile": "Dockerfile",
                "tags": [f"{name}:1.0.0"],
                "platforms": ["linux/amd64"],
                "network": "none",
                "contexts": {"imagekit-base/b:1": "docker-image://r.example/p/imagekit-base/b:1"},
                "cache-from": [f"type=registry,ref=r.example/cache:bake-{name}"],
                "cache-to": [f"type=registry,ref=r.example/cache:bake-{name},mode=max"],
                "attest": [{"type": "provenance", "mode": "max"}, {"type": "sbom"}],
            }
            for name in ("iris-a", "iris-b")
        },
    }


def refused(doc: dict[str, Any]) -> str:
    with pytest.raises(BakeFileError) as raised:
        validate_bake(doc, WHERE)
    message = str(raised.value)
    assert "\n" not in message and message.startswith("docker-bake.json: ")
    return message


def test_what_imagekit_writes_is_accepted() -> None:
    validate_bake(document(), WHERE)


def test_the_check_names_the_buildx_commit_it_was_made_from() -> None:
    assert len(BUILDX_COMMIT) == 40
    assert TARGET["cache-to"] is Kind.TYPED and TARGET["attest"] is Kind.TYPED


def test_an_unknown_attribute_is_refused() -> None:
    doc = document()
    doc["target"]["iris-a"]["cache_to"] = ["type=inline"]
    assert "target.iris-a.cache_to: buildx has no such attribute" in refused(doc)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("tags", "iris:1", "expected a list of strings, got a string"),
        ("platforms", ["linux/amd64", 3], "expected a list of strings, got a list"),
        ("network", None, "expected a string, got null"),
        ("no-cache", "true", "expected true or false, got a string"),
        ("contexts", {"b": None}, "expected an object of strings, got an object"),
        ("cache-to", [{"ref": "r/x:c"}], "objects of strings with a type"),
        ("cache-from", "type=registry,ref=r/x:c", "got a string"),
        ("attest", ["provenance"], "got a list"),
        ("resources", {"cpu-shares": "2"}, "expected an object with memory"),
        ("ssh", [{"id": "default", "paths": "a"}], "objects with id and paths"),
    ],
)
def test_a_wrong_type_is_refused(key: str, value: object, expected: str) -> None:
    doc = document()
    doc["target"]["iris-b"][key] = value
    message = refused(doc)
    assert f"target.iris-b.{key}: " in message and expected in message


def test_what_buildx_takes_besides_is_accepted() -> None:
    doc = document()
    target = doc["target"]["iris-a"]
    target["args"] = {"A": "1", "B": None}  # map[string]*string
    target["secret"] = ["id=a,src=a.txt", {"id": "b", "env": "B"}]
    target["ssh"] = [{"id": "default", "paths": ["/k"]}]
    target["resources"] = {"memory": "1g", "cpu-shares": 2}
    target["output"] = [{"type": "image", "push": "true"}]
    target["attest"] = [{"type": "sbom", "disabled": True}]
    validate_bake(doc, WHERE)


def test_names_and_groups_buildx_refuses() -> None:
    doc = document()
    doc["target"]["iris.a"] = copy.deepcopy(doc["target"].pop("iris-a"))
    assert "target.iris.a: a name may hold only" in refused(doc)
    doc = document()
    doc["group"]["default"]["targets"].append("nope")
    assert "group.default.targets: 'nope' is neither a target nor a group" in refused(doc)
    doc = document()
    del doc["group"]["default"]["targets"]
    assert "group.default: targets is required" in refused(doc)
    assert "variable: not a block imagekit writes" in refused({**document(), "variable": {}})
