"""Python distributions: dist-info and egg-info anywhere, METADATA however broken."""

from __future__ import annotations

import base64
import hashlib
import json

from _inventory_helpers import DATA, file, layer, view_of

from imagekit.inventory import read_inventory
from imagekit.inventory.python import MAX_HEADER, read_python
from imagekit.sbom import SbomFormat, SpecVersion, render_sbom

SITE = "opt/venv/lib/python3.11/site-packages"


def metadata(name: str, version: str, *extra: str) -> str:
    return (
        "\n".join(["Metadata-Version: 2.4", f"Name: {name}", f"Version: {version}", *extra])
        + "\n\nBody\n"
    )


def record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def test_a_wheel_installed_distribution() -> None:
    init = b"print('hi')\n"
    record = (
        f"demo/__init__.py,{record_hash(init)},{len(init)}\n"
        "demo-1.0.dist-info/METADATA,,\n"
        "demo-1.0.dist-info/RECORD,,\n"
    )
    view = view_of(
        layer(
            file(
                f"{SITE}/Demo_Pkg-1.0.dist-info/METADATA",
                metadata(
                    "Demo_Pkg",
                    "1.0",
                    "License-Expression: mit OR apache-2.0",
                    "Classifier: License :: OSI Approved :: MIT License",
                    "Classifier: Programming Language :: Python",
                    "Requires-Dist: numpy>=1.26",
                    'Requires-Dist: pytest; extra == "test"',
                ),
            ),
            file(f"{SITE}/Demo_Pkg-1.0.dist-info/RECORD", record),
            file(f"{SITE}/Demo_Pkg-1.0.dist-info/INSTALLER", "uv\n"),
            file(
                f"{SITE}/Demo_Pkg-1.0.dist-info/direct_url.json",
                json.dumps({"url": "file:///wheels/demo-1.0.whl", "archive_info": {}}),
            ),
        )
    )
    [dist] = read_python(view)
    assert (dist.name, dist.raw_name, dist.version) == ("demo-pkg", "Demo_Pkg", "1.0")
    assert dist.site_packages == f"/{SITE}"
    assert dist.metadata_path == f"/{SITE}/Demo_Pkg-1.0.dist-info"
    assert dist.license_expression == "MIT OR Apache-2.0"
    assert dist.license_texts == ("License :: OSI Approved :: MIT License",)
    assert dist.requires_dist == ("numpy>=1.26", 'pytest; extra == "test"')
    assert [(f.path, f.sha256) for f in dist.record] == [
        ("demo/__init__.py", hashlib.sha256(init).hexdigest())
    ]
    assert dist.installer == "uv"
    assert dist.direct_url == {"url": "file:///wheels/demo-1.0.whl", "archive_info": {}}
    assert view.warnings == ()


def test_numpy_license_field_is_cut_to_its_first_line() -> None:
    view = view_of(
        layer(
            file(f"{SITE}/numpy-2.1.3.dist-info/METADATA", (DATA / "numpy.METADATA").read_bytes())
        )
    )
    [dist] = read_python(view)
    assert dist.license_texts == (
        "Copyright (c) 2005-2024, NumPy Developers.",
        "License :: OSI Approved :: BSD License",
    )
    assert dist.requires_dist == ('pytest ; extra == "test"',)


def test_a_long_license_line_is_shortened_at_a_word() -> None:
    words = " ".join(["word"] * 100)
    view = view_of(
        layer(file(f"{SITE}/x-1.dist-info/METADATA", metadata("x", "1", f"License: {words}")))
    )
    [dist] = read_python(view)
    [text] = dist.license_texts
    assert text.endswith("word…") and len(text) <= 201


def test_invalid_license_expression_is_kept_as_text_with_a_warning() -> None:
    view = view_of(
        layer(
            file(
                f"{SITE}/x-1.dist-info/METADATA",
                metadata("x", "1", "License-Expression: MIT-ish or whatever"),
            )
        )
    )
    [dist] = read_python(view)
    assert dist.license_expression is None
    assert dist.license_texts == ("MIT-ish or whatever",)
    [warning] = view.warnings
    assert warning.startswith(
        f"/{SITE}/x-1.dist-info/METADATA: License-Expression 'MIT-ish or whatever' is not valid SPDX ("
    )
    assert warning.endswith("); kept as text")


def test_metadata_that_is_not_utf8_is_read_with_a_warning() -> None:
    view = view_of(
        layer(
            file(
                f"{SITE}/cafe_lib-1.0.dist-info/METADATA",
                (DATA / "invalid-utf8.METADATA").read_bytes(),
            )
        )
    )
    [dist] = read_python(view)
    assert (dist.raw_name, dist.name, dist.version) == ("caf\ufffd-lib", "caf\ufffd-lib", "1.0")
    assert dist.license_texts == ("MIT",)
    assert view.warnings == (
        f"/{SITE}/cafe_lib-1.0.dist-info/METADATA: not valid UTF-8 (at byte 31); read with replacement characters",
    )


def test_huge_headers_are_cut_with_a_warning() -> None:
    huge = "License: " + "\n ".join(["x" * 1000] * (2 * MAX_HEADER // 1000))
    text = metadata("big", "3.0", huge, "Requires-Dist: after-the-cut")
    view = view_of(layer(file(f"{SITE}/big-3.0.dist-info/METADATA", text)))
    [dist] = read_python(view)
    assert (dist.name, dist.version) == ("big", "3.0")
    assert dist.requires_dist == ()  # beyond the cut
    [warning] = view.warnings
    assert warning.startswith(f"/{SITE}/big-3.0.dist-info/METADATA: headers of ")
    assert warning.endswith(f" characters; only the first {MAX_HEADER} are read")


def test_metadata_without_name_is_a_warning() -> None:
    view = view_of(
        layer(file(f"{SITE}/x-1.dist-info/METADATA", "Metadata-Version: 2.1\nVersion: 1\n"))
    )
    assert read_python(view) == ()
    assert view.warnings == (
        f"/{SITE}/x-1.dist-info/METADATA: no Name or no Version; not counted as a distribution",
    )


def test_bad_record_hash_and_direct_url_are_warnings() -> None:
    d = f"{SITE}/x-1.dist-info"
    view = view_of(
        layer(
            file(f"{d}/METADATA", metadata("x", "1")),
            file(f"{d}/RECORD", f"x/a.py,sha256=@@@,3\nx/b.py,{record_hash(b'')},0\n"),
            file(f"{d}/direct_url.json", "{not json"),
        )
    )
    [dist] = read_python(view)
    assert dist.direct_url is None
    assert [f.path for f in dist.record] == ["x/b.py"]
    assert (
        view.warnings[0]
        == f"/{d}/RECORD: x/a.py: 'sha256=@@@' is not a urlsafe-base64 sha256; skipped"
    )
    assert view.warnings[1].startswith(f"/{d}/direct_url.json: not valid JSON (")


def test_egg_info_directory_and_file() -> None:
    dist_packages = "usr/lib/python3/dist-packages"
    view = view_of(
        layer(
            file(
                f"{dist_packages}/six-1.16.0.egg-info/PKG-INFO",
                metadata("six", "1.16.0", "License: MIT"),
            ),
            file(
                f"{dist_packages}/chardet-5.1.0.egg-info",
                metadata("chardet", "5.1.0", "License: LGPL"),
            ),
        )
    )
    dists = read_python(view)
    assert [(d.name, d.version, d.metadata_path, d.record) for d in dists] == [
        ("chardet", "5.1.0", f"/{dist_packages}/chardet-5.1.0.egg-info", ()),
        ("six", "1.16.0", f"/{dist_packages}/six-1.16.0.egg-info", ()),
    ]


def test_two_environments_are_two_sets() -> None:
    other = "usr/local/lib/python3.12/site-packages"
    view = view_of(
        layer(
            file(f"{SITE}/numpy-2.1.3.dist-info/METADATA", metadata("numpy", "2.1.3")),
            file(f"{other}/numpy-1.26.4.dist-info/METADATA", metadata("numpy", "1.26.4")),
            file(f"{other}/six-1.16.0.dist-info/METADATA", metadata("six", "1.16.0")),
        )
    )
    assert [(d.site_packages, d.name, d.version) for d in read_python(view)] == [
        (f"/{SITE}", "numpy", "2.1.3"),
        (f"/{other}", "numpy", "1.26.4"),
        (f"/{other}", "six", "1.16.0"),
    ]


def test_a_distribution_deleted_by_a_later_layer_is_gone() -> None:
    view = view_of(
        layer(file(f"{SITE}/old-1.dist-info/METADATA", metadata("old", "1"))),
        layer(file(f"{SITE}/.wh.old-1.dist-info")),
    )
    assert read_python(view) == ()


# --- real packages: the metadata folders they install (tests/data/inventory/python-layouts) ---

LAYOUTS = DATA / "python-layouts"
DIST_PACKAGES = "/usr/lib/python3/dist-packages"


def _of(folder: str) -> list[tuple[str, str, str, str, int]]:
    found = read_inventory(str(LAYOUTS / folder))
    return [
        (d.name, d.version, d.site_packages, d.metadata_path, len(d.record)) for d in found.python
    ]


def test_debian_cryptography_with_an_egg_info_and_a_dist_info_is_one_distribution() -> None:
    assert _of("python3-cryptography") == [
        (
            "cryptography",
            "38.0.4",
            DIST_PACKAGES,
            f"{DIST_PACKAGES}/cryptography-38.0.4.dist-info",
            93,  # the RECORD lines with a sha256
        )
    ]


def test_debian_cryptography_gets_an_sbom_listing_it_once() -> None:
    found = read_inventory(str(LAYOUTS / "python3-cryptography"))
    document = json.loads(
        render_sbom(found, fmt=SbomFormat.CYCLONEDX_JSON, spec=SpecVersion.V1_6, reproducible=True)
    )
    refs = [c["bom-ref"] for c in document["components"]]
    assert refs == ["pkg:pypi/cryptography@38.0.4"]


def test_debian_egg_info_folders_named_with_their_version() -> None:
    assert _of("python3-six") == [
        ("six", "1.16.0", DIST_PACKAGES, f"{DIST_PACKAGES}/six-1.16.0.egg-info", 0)
    ]
    assert _of("python3-idna") == [
        ("idna", "3.3", DIST_PACKAGES, f"{DIST_PACKAGES}/idna-3.3.egg-info", 0)
    ]


def test_a_wheel_installed_by_pip_is_its_dist_info() -> None:
    assert _of("six-wheel") == [
        ("six", "1.16.0", "/site-packages", "/site-packages/six-1.16.0.dist-info", 8)
    ]


def test_an_unzipped_egg_is_its_egg_folder_in_its_environment() -> None:
    assert _of("six-egg") == [
        ("six", "1.16.0", "/site-packages", "/site-packages/six-1.16.0-py3.11.egg", 0)
    ]


def test_the_dist_info_is_kept_whichever_layer_or_order_holds_the_folders() -> None:
    dist_packages = "usr/lib/python3/dist-packages"
    view = view_of(
        layer(file(f"{dist_packages}/demo-1.0.dist-info/METADATA", metadata("demo", "1.0"))),
        layer(
            file(f"{dist_packages}/demo.egg-info/PKG-INFO", metadata("demo", "1.0")),
            file(f"{dist_packages}/demo-1.0-py3.11.egg/EGG-INFO/PKG-INFO", metadata("Demo", "1.0")),
            file(f"{dist_packages}/demo-2.0.egg-info", metadata("demo", "2.0")),
        ),
    )
    assert [(d.version, d.metadata_path) for d in read_python(view)] == [
        ("1.0", f"/{dist_packages}/demo-1.0.dist-info"),
        ("2.0", f"/{dist_packages}/demo-2.0.egg-info"),
    ]
