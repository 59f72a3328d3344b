"""The SPDX JSON reader on the documents others write: the classifier tells SPDX from
CycloneDX, licences are read as expressions and names, a wrong shape is one error naming the
file and the key, a value of the wrong type is left out. (Real documents, imagekit's and
syft's, are read in tests/sbom/test_sbom_spdx_input.py.)"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from _fuzz import EDITS, VALUES, key_paths, mutate, substitute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagekit.errors import InputError
from imagekit.image.ref import RefKind, image_ref
from imagekit.inventory.licences import DeclaredLicense
from imagekit.inventory.spdx import read_spdx
from imagekit.limits import MAX_SBOM_DOCUMENT


def write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data))
    return path


SPDX_HEAD = {"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT"}


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (json.dumps({**SPDX_HEAD, "packages": []}), RefKind.SPDX),
        (json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6"}), RefKind.SBOM),
        # a key named inside a string value does not count; the first format key wins
        (json.dumps({"bomFormat": "CycloneDX", "x": '"spdxVersion": 1'}), RefKind.SBOM),
        (json.dumps({"name": '"spdxVersion": "x"', "bomFormat": "CycloneDX"}), RefKind.SBOM),
        # spdx-tools writes SPDXID and annotations first: the key is found past 512 bytes
        (
            json.dumps({"SPDXID": "SPDXRef-DOCUMENT", "comment": "x" * 4000, **SPDX_HEAD}),
            RefKind.SPDX,
        ),
        (json.dumps({"image": {}, "python": []}), RefKind.SBOM),  # an Inventory JSON
    ],
)
def test_the_classifier_tells_spdx_from_cyclonedx(
    tmp_path: Path, content: str, kind: RefKind
) -> None:
    for name in ("sbom.json", "sbom"):  # by its suffix, and by its first byte
        path = tmp_path / name
        path.write_text(content)
        assert image_ref(str(path)).kind is kind


def package(**fields: Any) -> dict[str, Any]:
    return {"SPDXID": "SPDXRef-p", "name": "p", "downloadLocation": "NOASSERTION", **fields}


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ("MIT", DeclaredLicense(expressions=("MIT",), names=())),
        ("NOASSERTION", DeclaredLicense(expressions=(), names=())),
        (
            "(MIT OR Apache-2.0) AND LicenseRef-x",
            DeclaredLicense(expressions=("MIT OR Apache-2.0",), names=("BSD License",)),
        ),
        (
            "(MIT) AND (BSD-3-Clause)",
            DeclaredLicense(expressions=("MIT", "BSD-3-Clause"), names=()),
        ),
        (
            "GPL-2.0+ AND not a licence",
            DeclaredLicense(expressions=("GPL-2.0+",), names=("not a licence",)),
        ),
    ],
)
def test_licences_are_the_declared_expressions_and_extracted_names(
    tmp_path: Path, declared: str, expected: DeclaredLicense
) -> None:
    data = {
        **SPDX_HEAD,
        "packages": [package(licenseDeclared=declared, licenseConcluded="NOASSERTION")],
        "hasExtractedLicensingInfos": [
            {"licenseId": "LicenseRef-x", "name": "BSD License", "extractedText": "BSD License"}
        ],
    }
    (entry,) = read_spdx(write(tmp_path / "s.json", data)).entries
    assert entry.licence == expected


def test_the_concluded_licence_when_none_is_declared(tmp_path: Path) -> None:
    data = {
        **SPDX_HEAD,
        "packages": [package(licenseDeclared="NOASSERTION", licenseConcluded="MIT")],
    }
    (entry,) = read_spdx(write(tmp_path / "s.json", data)).entries
    assert entry.licence.expressions == ("MIT",)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"bomFormat": "CycloneDX"},
            "spdxVersion: not an SPDX 2 JSON document (\"spdxVersion\" is 'None')",
        ),
        (
            {"spdxVersion": "SPDX-3.0"},
            "spdxVersion: not an SPDX 2 JSON document (\"spdxVersion\" is 'SPDX-3.0')",
        ),
        ({**SPDX_HEAD, "packages": {}}, "packages: must be an array"),
        ({**SPDX_HEAD, "packages": [package(), 3]}, "packages[1]: must be an object"),
        ({**SPDX_HEAD, "relationships": ["DESCRIBES"]}, "relationships[0]: must be an object"),
        (
            {**SPDX_HEAD, "hasExtractedLicensingInfos": 1},
            "hasExtractedLicensingInfos: must be an array",
        ),
    ],
)
def test_a_wrong_shape_names_the_file_and_key(
    tmp_path: Path, data: dict[str, Any], message: str
) -> None:
    path = write(tmp_path / "bad.spdx.json", data)
    with pytest.raises(InputError, match=re.escape(message)) as caught:
        read_spdx(path)
    assert str(path) in str(caught.value)


def test_values_of_the_wrong_type_are_left_out(tmp_path: Path) -> None:
    hostile = package(
        name="p",
        versionInfo=3,
        licenseDeclared=["MIT"],
        externalRefs=[{"referenceType": "purl", "referenceLocator": 7}, "x"],
        checksums=[{"algorithm": "SHA256"}, None],
        annotations=[{"comment": "imagekit:a=b"}, {"comment": 5}, "imagekit:c=d"],
    )
    document = {**SPDX_HEAD, "packages": [{**hostile, "SPDXID": []}], "documentDescribes": 5}
    (entry,) = read_spdx(write(tmp_path / "s.json", document)).entries
    assert (entry.version, entry.purl, entry.sha256, entry.licence.expressions) == (
        None,
        None,
        None,
        (),
    )
    assert dict(entry.properties) == {"imagekit:a": "b"}


def test_a_file_past_the_bound_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "huge.spdx.json"
    with path.open("wb") as f:
        f.write(b'{"spdxVersion": "SPDX-2.3", "x": "')
        f.truncate(MAX_SBOM_DOCUMENT + 1)
    with pytest.raises(InputError, match="more than any SBOM"):
        read_spdx(path)


# --- fuzzed: imagekit's own SPDX SBOMs with hostile bytes and values --------------------------

SEEDS = {
    path.name: path.read_bytes()
    for path in sorted((Path(__file__).parent.parent / "data" / "sbom").glob("*.spdx-json.*"))
}
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def read_or_refuse(path: Path, data: bytes) -> None:
    """A package view, or one `InputError` naming the file; never another exception."""
    path.write_bytes(data)
    try:
        view = read_spdx(path)
    except InputError as e:
        assert str(path) in str(e)
        return
    assert all(isinstance(e.name, str) for e in view.entries)


def test_the_seeds_are_read(tmp_path: Path) -> None:
    assert len(SEEDS) == 2
    for name, data in SEEDS.items():
        path = tmp_path / name
        path.write_bytes(data)
        assert len(read_spdx(path).entries) > 10


@FUZZ
@given(seed=st.sampled_from(sorted(SEEDS)), edits=EDITS)
def test_mutated_documents_are_read_or_refused(
    tmp_path_factory: pytest.TempPathFactory, seed: str, edits: list[tuple[float, int, bytes]]
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "sbom.spdx.json"
    read_or_refuse(path, mutate(SEEDS[seed], edits))


@FUZZ
@given(seed=st.sampled_from(sorted(SEEDS)), data=st.data())
def test_hostile_values_are_read_or_refused(
    tmp_path_factory: pytest.TempPathFactory, seed: str, data: st.DataObject
) -> None:
    document: Any = json.loads(SEEDS[seed])
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        paths = key_paths(document)
        if not paths:
            break
        substitute(document, data.draw(st.sampled_from(paths)), data.draw(VALUES))
    path = tmp_path_factory.mktemp("fuzz") / "sbom.spdx.json"
    read_or_refuse(path, json.dumps(document).encode())
