"""The Inventory's JSON form, the plan's artifacts and data, os-release, and `read_inventory`'s
view of a small whole image."""

from __future__ import annotations

import json

import pytest
from _inventory_helpers import OS_RELEASE, PLAN, file, layer, plan, sha256, view_of

from imagekit.inventory import ImageInfo, Inventory, InventoryError, inventory_of_view
from imagekit.inventory.artifacts import read_artifacts, read_plan
from imagekit.inventory.osrelease import parse_os_release

WEIGHTS = b"weights"
SITE = "opt/venv/lib/python3.11/site-packages"
IMAGE = ImageInfo(
    reference="test/image:1",
    digest="sha256:" + "1" * 64,
    config_digest="sha256:" + "1" * 64,
    architecture="amd64",
    os="linux",
    labels={"io.imagekit.cuda.min-driver": "550.54.14", "a": "b"},
    layers=("sha256:" + "2" * 64,),
    base_name="imagekit-base/debian",
    base_digest=None,
    source_kind="docker-archive",
)


def whole_image() -> Inventory:
    status = "Package: libc6\nStatus: install ok installed\nVersion: 2.36\nArchitecture: amd64\nSource: glibc (2.36)\n"
    torch = "Metadata-Version: 2.1\nName: torch\nVersion: 2.5.1+cu124\nLicense: BSD-3-Clause\n"
    view = view_of(
        layer(
            file("etc/os-release", OS_RELEASE),
            file("var/lib/dpkg/status", status),
            file(f"{SITE}/torch-2.5.1+cu124.dist-info/METADATA", torch),
            file(
                f"{SITE}/torch-2.5.1+cu124.dist-info/RECORD",
                "torch/__init__.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n",
            ),
            file(
                f"{SITE}/torch-2.5.1+cu124.dist-info/direct_url.json",
                json.dumps({"url": "file:///w/torch.whl"}),
            ),
            file("opt/model/model.bin", WEIGHTS),
            file(
                PLAN,
                plan(
                    ("/opt/model/model.bin", sha256(WEIGHTS)[7:]), ("/opt/model/gone.bin", "0" * 64)
                ),
            ),
        )
    )
    return inventory_of_view(IMAGE, view)


def test_a_whole_image() -> None:
    inventory = whole_image()
    assert (
        inventory.os_release is not None
        and inventory.os_release.pretty_name == "Debian GNU/Linux 12 (bookworm)"
    )
    assert [(d.name, d.source_name) for d in inventory.debs] == [("libc6", "glibc")]
    assert [(d.name, d.version) for d in inventory.python] == [("torch", "2.5.1+cu124")]
    assert [(c.name, c.cuda_version) for c in inventory.cuda] == [("torch", "12.4")]
    assert [(a.path, a.verified, a.size) for a in inventory.artifacts] == [
        ("/opt/model/gone.bin", False, None),
        ("/opt/model/model.bin", True, len(WEIGHTS)),
    ]
    assert [(d.kind, d.name, d.revision) for d in inventory.data] == [
        ("dataset", "iris", None),
        ("source", "src", "abc"),
    ]
    assert inventory.min_driver == "550.54.14"
    assert inventory.warnings == ()


def test_to_dict_round_trip_and_is_stable() -> None:
    inventory = whole_image()
    data = inventory.to_dict()
    assert Inventory.from_dict(json.loads(json.dumps(data))) == inventory
    assert json.dumps(data, sort_keys=True) == json.dumps(whole_image().to_dict(), sort_keys=True)
    assert data["artifacts"][1]["verified"] is True
    assert data["schema"] == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(schema=99), r"^inventory JSON: schema 99 is not supported$"),
        (
            lambda d: d["debs"][0].update(version=2),
            r"^inventory JSON: debs\[0\]\.version: expected str$",
        ),
        (
            lambda d: d["artifacts"][0].update(size=True),
            r"^inventory JSON: artifacts\[0\]\.size: expected int$",
        ),
        (
            lambda d: d["python"][0].update(license_texts="MIT"),
            r"^inventory JSON: python\[0\]\.license_texts: expected list$",
        ),
        (
            lambda d: d["cuda"][0].update(kind="magic"),
            r"^inventory JSON: cuda\[0\]\.kind: unknown kind 'magic'$",
        ),
    ],
)
def test_from_dict_names_what_is_wrong(change: object, message: str) -> None:
    data = whole_image().to_dict()
    assert callable(change)
    change(data)
    with pytest.raises(InventoryError, match=message):
        Inventory.from_dict(data)


def test_no_plan_no_artifacts() -> None:
    view = view_of(layer(file("etc/hostname", "x")))
    assert read_plan(view) is None
    assert read_artifacts(view, None) == ()


def test_unreadable_plan_is_a_warning() -> None:
    view = view_of(layer(file(PLAN, "{broken")))
    assert read_plan(view) is None
    [warning] = view.warnings
    assert warning.startswith("/usr/share/imagekit/plan.json: not valid JSON (")


def test_os_release_quoting() -> None:
    release = parse_os_release(
        '# comment\nNAME="Ubuntu"\nVERSION_ID="22.04"\nID=ubuntu\nPRETTY_NAME=\'Ubuntu 22.04.4 LTS\'\nVERSION_CODENAME=jammy\nBROKEN="x\n'
    )
    assert (release.id, release.version_id, release.codename, release.pretty_name) == (
        "ubuntu",
        "22.04",
        "jammy",
        "Ubuntu 22.04.4 LTS",
    )
