"""Driver versions, CUDA versions, compute capabilities and architecture lists, parsed strictly."""

from __future__ import annotations

import pytest

from imagekit.gpu import Arch, ComputeCapability, CudaVersion, DriverVersion, VersionError
from imagekit.gpu.versions import format_arch_list, parse_arch_list


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("535.104.05", (535, 104, 5)),
        ("550.54", (550, 54, 0)),
        ("470.239.06 ", (470, 239, 6)),  # nvidia-smi --query output keeps a trailing space
        ("580", (580, 0, 0)),
    ],
)
def test_driver_versions_parse(text: str, key: tuple[int, int, int]) -> None:
    assert DriverVersion.parse(text).key == key


@pytest.mark.parametrize("text", ["r535", "", "   ", "535.104.05.1", "535-104", "v550.54.14"])
def test_odd_driver_versions_are_refused(text: str) -> None:
    with pytest.raises(VersionError, match=r"is not a driver version \(write it as nvidia-smi"):
        DriverVersion.parse(text)


def test_driver_versions_order_numerically() -> None:
    parse = DriverVersion.parse
    assert parse("550.54") < parse("550.54.14") < parse("550.54.15") < parse("550.100")
    assert parse("535.104.05") > parse("535.54.03")  # 104 > 54, not "1" < "5"
    assert parse("580") <= parse("580.65.06")
    assert parse("470.239.06 ") == parse("470.239.06")


def test_cuda_versions() -> None:
    assert CudaVersion.from_nvml(12040) == CudaVersion(major=12, minor=4)
    assert CudaVersion.from_nvml(11080) == CudaVersion(major=11, minor=8)
    assert str(CudaVersion.from_tag("cu118")) == "11.8"
    assert CudaVersion.parse("12.4.127") == CudaVersion(major=12, minor=4)
    assert str(CudaVersion.parse("12")) == "12"
    assert CudaVersion(major=12, minor=4).tag == "cu124"
    assert CudaVersion(major=12).sort_key < CudaVersion(major=12, minor=0).sort_key
    with pytest.raises(VersionError, match="is not a CUDA build tag"):
        CudaVersion.from_tag("cpu")
    with pytest.raises(VersionError, match="is not a CUDA version NVML reports"):
        CudaVersion.from_nvml(0)


def test_sass_runs_within_a_major_and_ptx_forward() -> None:
    cc = ComputeCapability.parse
    sm80, sm90ptx = Arch.parse("8.0"), Arch.parse("9.0+PTX")
    assert sm80.runs_natively_on(cc("8.6")) and sm80.runs_natively_on(cc("8.9"))
    assert not sm80.runs_natively_on(cc("9.0"))  # a new major needs its own SASS
    assert not Arch.parse("8.6").runs_natively_on(cc("8.0"))  # nor an older minor
    assert sm90ptx.jit_covers(cc("10.0")) and sm90ptx.jit_covers(cc("9.0"))
    assert not sm90ptx.jit_covers(cc("8.9")) and not sm80.jit_covers(cc("9.0"))


def test_arch_lists_round_trip() -> None:
    archs = parse_arch_list("7.5;8.0;8.6;9.0;10.0;12.0+PTX")
    assert format_arch_list(archs) == "7.5;8.0;8.6;9.0;10.0;12.0+PTX"
    assert archs[-1] == Arch(cc=ComputeCapability(major=12, minor=0), ptx=True)
    for bad in ("", "sm_80", "9.0+ptx", "8"):
        with pytest.raises(VersionError):
            parse_arch_list(bad)
