"""Fleet files: node pools parsed at the boundary; bad files name the file and the key."""

from __future__ import annotations

import pytest
from _gpu_support import GPU_DATA

from imagekit.errors import InputError
from imagekit.gpu import knowledge_base, load_fleet

KB = knowledge_base()


def test_fleet_pools() -> None:
    pools = {p.name: p for p in load_fleet(GPU_DATA / "fleet.toml", KB)}
    assert list(pools) == [
        "h100-550",
        "a100-535",
        "t4-470",
        "t4-470-compat",
        "rtx4090-560",
        "p100-550",
        "b200-570",
        "ampere-workstations",
    ]
    h100 = pools["h100-550"]
    assert (str(h100.driver), str(h100.cc), h100.gpu, h100.datacenter) == (
        "550.54.15",
        "9.0",
        "H100",
        True,
    )
    assert pools["rtx4090-560"].datacenter is False  # default from the GPU table
    assert pools["t4-470-compat"].cuda_compat is True
    custom = pools["ampere-workstations"]
    assert (custom.gpu, str(custom.cc), custom.datacenter) == (None, "8.6", False)
    assert h100.to_dict()["compute_capability"] == "9.0"


@pytest.mark.parametrize(
    ("asset", "message"),
    [
        ("malformed", r"malformed\.fleet\.toml:\d+: malformed TOML: "),
        (
            "bad-driver",
            r"bad-driver\.fleet\.toml: pools\[0\]\.driver: 'r535' is not a driver version "
            r"\(write it as nvidia-smi prints it, e\.g\. 535\.104\.05\)",
        ),
        (
            "empty-driver",
            r"empty-driver\.fleet\.toml: pools\[0\]\.driver: '' is not a driver version",
        ),
        (
            "unknown-gpu",
            r"unknown-gpu\.fleet\.toml: pools\[0\]\.gpu: unknown GPU 'A1000' "
            r"\(set compute_capability = \"X\.Y\" as well, or use one of: A10, A100, ",
        ),
        (
            "no-gpu",
            r"no-gpu\.fleet\.toml: pools\[0\]: the pool names neither its GPU nor its compute "
            r"capability \(add gpu = \"A100\" or compute_capability = \"8\.0\"\)",
        ),
        (
            "cc-mismatch",
            r"cc-mismatch\.fleet\.toml: pools\[0\]\.compute_capability: 8\.6 contradicts the "
            r"A100's compute capability 8\.0",
        ),
        ("unknown-key", r"unknown-key\.fleet\.toml: pools\[0\]\.datacentre: unknown key"),
        (
            "wrong-type",
            r"wrong-type\.fleet\.toml: pools\[0\]\.datacenter: must be a boolean, got a string",
        ),
        ("empty", r"empty\.fleet\.toml: pools: the fleet has no pools"),
        ("duplicate", r"duplicate\.fleet\.toml: pools\[1\]\.name: pool 'a100' twice"),
        (
            "bad-cc",
            r"bad-cc\.fleet\.toml: pools\[0\]\.compute_capability: '8' is not a compute capability",
        ),
    ],
)
def test_bad_fleet_files(asset: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_fleet(GPU_DATA / f"{asset}.fleet.toml", KB)


def test_missing_fleet_file() -> None:
    with pytest.raises(InputError, match=r"nowhere\.toml: file not found"):
        load_fleet(GPU_DATA / "nowhere.toml", KB)
