"""The CycloneDX schema check of a rebuilt image's SBOM checks only the components it has not
seen pass before; it refuses exactly what a whole check refuses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _inventories import iris

from imagekit.inventory.scancache import ScanCache
from imagekit.sbom import SbomError
from imagekit.sbom.formats import writer
from imagekit.sbom.interface import SbomFormat, SpecVersion

CDX = writer(SbomFormat.CYCLONEDX_JSON)
V16 = SpecVersion.V1_6


class CountingMemo:
    """The scan cache, counting what was asked of it and what it was told to keep."""

    def __init__(self, root: Path) -> None:
        self.cache = ScanCache(root)
        self.asked = 0
        self.kept = 0

    def remembered(self, what: str, inputs: bytes) -> Any:
        self.asked += 1
        return self.cache.remembered(what, inputs)

    def remember(self, what: str, inputs: bytes, value: Any) -> None:
        self.kept += 1
        self.cache.remember(what, inputs, value)


@pytest.fixture
def text() -> str:
    return CDX.serialise(iris(), spec=V16, reproducible=True)


def check(text: str, memo: CountingMemo) -> None:
    CDX.validate(text, spec=V16, subject="iris", memo=memo)


def test_a_second_check_keeps_nothing_new(text: str, tmp_path: Path) -> None:
    memo = CountingMemo(tmp_path)
    document = json.loads(text)
    items = len(document["components"]) + len(document["dependencies"])
    check(text, memo)
    assert (memo.asked, memo.kept) == (items, items)
    again = CountingMemo(tmp_path)
    check(text, again)
    assert (again.asked, again.kept) == (items, 0)


def test_a_changed_component_is_checked_and_kept(text: str, tmp_path: Path) -> None:
    check(text, CountingMemo(tmp_path))
    document = json.loads(text)
    document["components"][0]["version"] = "9.9.9"
    document["dependencies"][0]["dependsOn"] = []
    memo = CountingMemo(tmp_path)
    check(json.dumps(document), memo)
    assert memo.kept == 2


def test_a_bad_component_is_refused_after_good_ones_passed(text: str, tmp_path: Path) -> None:
    check(text, CountingMemo(tmp_path))
    document = json.loads(text)
    document["components"][1]["type"] = "not-a-type"
    memo = CountingMemo(tmp_path)
    with pytest.raises(SbomError, match=r"fails the CycloneDX 1\.6 schema"):
        check(json.dumps(document), memo)
    assert memo.kept == 0  # nothing is kept from a document that failed
    with pytest.raises(SbomError):  # and the bad one is refused again
        check(json.dumps(document), CountingMemo(tmp_path))


@pytest.mark.parametrize("name", ["components", "dependencies"])
def test_an_item_twice_is_refused_even_when_it_passed_before(
    text: str, tmp_path: Path, name: str
) -> None:
    check(text, CountingMemo(tmp_path))
    document = json.loads(text)
    document[name].append(document[name][0])
    with pytest.raises(SbomError, match="non-unique elements"):
        check(json.dumps(document), CountingMemo(tmp_path))


def test_the_rest_of_the_document_is_checked_whole(text: str, tmp_path: Path) -> None:
    check(text, CountingMemo(tmp_path))
    document = json.loads(text)
    document["metadata"]["timestamp"] = "yesterday"
    with pytest.raises(SbomError, match=r"fails the CycloneDX 1\.6 schema"):
        check(json.dumps(document), CountingMemo(tmp_path))
