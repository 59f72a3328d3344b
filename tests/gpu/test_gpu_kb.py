"""The CUDA knowledge base: the packaged file, every row of NVIDIA's driver table, the torch
builds and GPUs it knows, and the checker that keeps it honest."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from _gpu_support import pool
from packaging.version import Version

from imagekit.gpu import CudaVersion, DriverVersion, Verdict, evaluate, knowledge_base
from imagekit.gpu.facts import CudaFacts, wheel_runtime
from imagekit.gpu.kb import KB_JSON, KB_SOURCE, data_file
from imagekit.gpu.kb_model import CudaRelease
from imagekit.gpu.kb_tool import run
from imagekit.gpu.versions import format_arch_list

KB = knowledge_base()


def just_below(driver: DriverVersion) -> DriverVersion:
    """The driver version one step below: 550.54.14 -> 550.54.13, 570.26 -> 570.25."""
    parts = [int(p) for p in driver.text.split(".")]
    assert parts[-1] > 0, f"no simple predecessor of {driver}"
    parts[-1] -= 1
    return DriverVersion.parse(".".join(str(p) for p in parts))


def verdict_at(cuda: CudaVersion, driver: DriverVersion) -> Verdict:
    """The verdict for an image holding only the CUDA runtime `cuda`, on an H100 pool."""
    runtime = wheel_runtime(f"nvidia-cuda-runtime-cu{cuda.major}", f"{cuda}.0", "lock", KB)
    assert runtime is not None
    facts = CudaFacts(origin="image", runtimes=(runtime,), frameworks=())
    report = evaluate(facts, [pool("p", driver.text, "9.0", "H100")], KB)
    return report.pools[0].verdict


def test_packaged_knowledge_base_is_valid_and_current() -> None:
    assert run(["check"]) == 0
    assert KB.newest == CudaVersion(major=13, minor=1)
    minors = {str(r.version) for r in KB.cuda_releases}
    expected = {f"11.{m}" for m in range(9)} | {f"12.{m}" for m in (0, 1, 2, 3, 4, 5, 6, 8, 9)}
    assert minors == expected | {"13.0", "13.1"}  # NVIDIA never released a CUDA 12.7


@pytest.mark.parametrize("row", KB.cuda_releases, ids=lambda r: r.release)
def test_every_release_row_around_its_driver(row: CudaRelease) -> None:
    """Each release of NVIDIA's table, just at and just below the driver it lists."""
    ga = KB.ga(row.version)
    assert ga is not None and ga.driver <= row.driver
    assert verdict_at(row.version, row.driver) is Verdict.RUNS
    below = just_below(row.driver)
    minor = KB.minor_compat_for(row.version.major)
    assert minor is not None
    if below >= ga.driver:  # an update's driver: the minor's GA driver is the floor
        expected = Verdict.RUNS
    elif below >= minor.min_driver:
        expected = Verdict.MINOR_COMPAT
    else:
        expected = Verdict.REFUSED
    assert verdict_at(row.version, below) is expected


@pytest.mark.parametrize(
    ("cuda", "driver"),
    [
        ("11.0", "450.51.05"),
        ("11.8", "520.61.05"),
        ("12.0", "525.60.13"),
        ("12.1", "530.30.02"),
        ("12.2", "535.54.03"),
        ("12.4", "550.54.14"),
        ("12.6", "560.28.03"),
        ("12.8", "570.26"),
        ("12.9", "575.51.03"),
        ("13.0", "580.65.06"),
        ("13.1", "590.44.01"),
    ],
)
def test_minor_floors_match_nvidias_table(cuda: str, driver: str) -> None:
    ga = KB.ga(CudaVersion.parse(cuda))
    assert ga is not None and str(ga.driver) == driver


def test_minor_version_compatibility_floors() -> None:
    floors = {m.major: str(m.min_driver) for m in KB.minor_compat}
    assert floors == {11: "450.80.02", 12: "525.60.13", 13: "580"}
    assert any("PTX" in limit for limit in KB.minor_compat_limits)
    assert KB.forward_compat.segments == ("datacenter",)
    assert KB.forward_compat.package_for(CudaVersion(major=12, minor=4)) == "cuda-compat-12-4"


def test_a_cuda_newer_than_the_table_gets_the_newest_floor_below() -> None:
    row = KB.floor_at_most(CudaVersion(major=13, minor=9))
    assert row is not None and row.label == "CUDA 13.1 GA"
    assert KB.floor_at_most(CudaVersion(major=10, minor=2)) is None


TORCH_BUILDS = {
    "2.1": {"cu118", "cu121"},
    "2.2": {"cu118", "cu121"},
    "2.3": {"cu118", "cu121"},
    "2.4": {"cu118", "cu121", "cu124"},
    "2.5": {"cu118", "cu121", "cu124"},
    "2.6": {"cu118", "cu124", "cu126"},
    "2.7": {"cu118", "cu126", "cu128"},
    "2.8": {"cu126", "cu128", "cu129"},
    "2.9": {"cu126", "cu128", "cu130"},
    "2.10": {"cu126", "cu128", "cu129", "cu130"},
    "2.11": {"cu126", "cu128", "cu129", "cu130"},
    "2.12": {"cu126", "cu128", "cu129", "cu130", "cu132"},
    "2.13": {"cu126", "cu129", "cu130", "cu132"},
    "2.14": {"cu126", "cu130", "cu132"},
    "2.15": {"cu126", "cu130", "cu132"},
}
# The build PyPI hosts, from each release's METADATA (tests/data/gpu/metadata has 2.13.0's):
# 2.10 pins nvidia-cuda-runtime-cu12==12.8.90, 2.11-2.14 cuda-toolkit 13.0.x, 2.15 13.2.2.
PYPI_BUILDS = {"2.10": "cu128", "2.11": "cu130", "2.13": "cu130", "2.14": "cu130", "2.15": "cu132"}


def test_torch_builds_of_2_1_to_2_15() -> None:
    found: dict[str, set[str]] = {}
    for b in KB.torch_builds:
        found.setdefault(b.torch, set()).add(b.cuda)
    assert found == TORCH_BUILDS
    for torch, tag in PYPI_BUILDS.items():
        release = KB.torch_release(Version(torch))
        assert release is not None and (release.pypi, release.cudnn_major) == (tag, 9)


@pytest.mark.parametrize(
    ("torch", "cuda", "arch_list"),
    [
        ("2.1", "cu118", "3.7;5.0;6.0;7.0;7.5;8.0;8.6;9.0"),  # Kepler only in the CUDA 11 build
        ("2.5", "cu124", "5.0;6.0;7.0;7.5;8.0;8.6;9.0"),
        ("2.7", "cu128", "7.5;8.0;8.6;9.0;10.0;12.0+PTX"),  # Maxwell, Pascal, Volta dropped
        ("2.8", "cu128", "7.0;7.5;8.0;8.6;9.0;10.0;12.0"),  # Volta back (pytorch#157517)
        ("2.9", "cu130", "7.5;8.0;8.6;9.0;10.0;12.0+PTX"),  # CUDA 13 has no sm_70
        ("2.10", "cu128", "7.0;7.5;8.0;8.6;9.0;10.0;12.0"),
        ("2.11", "cu128", "7.5;8.0;8.6;9.0;10.0;12.0"),  # sm_70 dropped from cu128
        ("2.11", "cu126", "5.0;6.0;7.0;7.5;8.0;8.6;9.0"),  # the build that keeps Volta
        ("2.13", "cu130", "7.5;8.0;8.6;9.0;10.0;12.0"),  # release builds without PTX
        ("2.15", "cu132", "7.5;8.0;8.6;9.0;10.0;12.0+PTX"),
    ],
)
def test_torch_arch_lists(torch: str, cuda: str, arch_list: str) -> None:
    build = KB.torch_build(Version(torch), cuda)
    assert build is not None and format_arch_list(build.archs) == arch_list


@pytest.mark.parametrize(
    ("name", "table", "cc", "datacenter"),
    [
        ("Tesla T4", "T4", "7.5", True),
        ("Tesla V100-SXM2-16GB", "V100", "7.0", True),
        ("NVIDIA A100-SXM4-40GB", "A100", "8.0", True),
        ("NVIDIA A10", "A10", "8.6", True),
        ("NVIDIA L4", "L4", "8.9", True),
        ("NVIDIA L40S", "L40S", "8.9", True),
        ("NVIDIA H100 80GB HBM3", "H100", "9.0", True),
        ("NVIDIA H200", "H200", "9.0", True),
        ("NVIDIA B200", "B200", "10.0", True),
        ("NVIDIA GeForce RTX 4090", "RTX 4090", "8.9", False),
        ("NVIDIA GeForce RTX 3090", "RTX 3090", "8.6", False),
        ("Tesla P100-PCIE-16GB", "P100", "6.0", True),
        ("NVIDIA GeForce GTX 1080", "GTX 1080", "6.1", False),
        ("NVIDIA GeForce GTX 1080 Ti", "GTX 1080 Ti", "6.1", False),
        ("NVIDIA RTX 6000 Ada Generation", "RTX 6000 Ada", "8.9", False),
        ("NVIDIA A10G", "A10G", "8.6", True),
        ("Tesla V100S-PCIE-32GB", "V100S", "7.0", True),
        ("NVIDIA H20", "H20", "9.0", True),
        ("NVIDIA H800 PCIe", "H800", "9.0", True),
        ("NVIDIA A800-SXM4-80GB", "A800", "8.0", True),
        ("NVIDIA L20", "L20", "8.9", True),
        ("NVIDIA GB300", "GB300", "10.3", True),
        ("NVIDIA GB10", "GB10", "12.1", True),
        (
            "NVIDIA RTX PRO 6000 Blackwell Server Edition",
            "RTX PRO 6000 Blackwell Server Edition",
            "12.0",
            True,
        ),
        (
            "NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition",
            "RTX PRO 6000 Blackwell Workstation Edition",
            "12.0",
            False,
        ),
    ],
)
def test_gpus_by_nvml_name(name: str, table: str, cc: str, datacenter: bool) -> None:
    gpu = KB.gpu(name)
    assert gpu is not None
    assert (gpu.name, str(gpu.cc), gpu.datacenter) == (table, cc, datacenter)


def test_unknown_gpu() -> None:
    assert KB.gpu("NVIDIA A1000") is None
    assert KB.gpu("Matrox G200") is None


@pytest.mark.parametrize(
    ("name", "version", "cuda"),
    [
        ("nvidia-cuda-runtime-cu12", "12.4.127", "12.4"),
        ("nvidia-cublas-cu12", "12.4.5.8", "12.4"),
        ("nvidia-cublas-cu11", "11.11.3.6", "11"),  # CUDA 11.8's cuBLAS: no CUDA minor in it
        ("nvidia-cudnn-cu12", "9.1.0.70", "12"),
        ("nvidia-nvjitlink-cu12", "12.4.127", "12.4"),
        ("nvidia-cuda-runtime", "13.0.48", "13.0"),  # CUDA 13 wheels drop the -cuNN suffix
        ("nvidia-cufft", "12.0.0.61", "13.0"),  # own version: cuda-toolkit 13.0.x pins it
        ("nvidia-curand", "10.4.0.35", "13.0"),
        ("nvidia-cusolver", "12.0.4.66", "13.0"),
        ("nvidia-cusparse", "12.6.3.3", "13.0"),
        ("nvidia-cufile", "1.15.1.6", "13.0"),
        ("nvidia-cublas", "13.1.1.3", "13.0"),  # CUDA 13.0 Update 3's cuBLAS
        ("nvidia-cufft", "12.2.0.57", "13.2"),  # cuda-toolkit 13.2.2
        ("nvidia-nvjitlink", "13.5.37", "13.5"),
        ("cuda-toolkit", "13.0.3.0", "13.0"),
        ("cuda-toolkit", "12.8.1", "12.8"),
    ],
)
def test_nvidia_wheels_map_to_cuda(name: str, version: str, cuda: str) -> None:
    runtime = wheel_runtime(name, version, "lock", KB)
    assert runtime is not None and str(runtime.cuda) == cuda


def test_other_packages_are_not_cuda() -> None:
    assert wheel_runtime("nvidia-ml-py", "13.615.71", "lock", KB) is None
    assert wheel_runtime("numpy", "2.1.3", "lock", KB) is None


@pytest.fixture
def kb_copy(tmp_path: Path) -> tuple[Path, Path]:
    source, generated = tmp_path / KB_SOURCE, tmp_path / KB_JSON
    shutil.copyfile(data_file(KB_SOURCE), source)
    shutil.copyfile(data_file(KB_JSON), generated)
    return source, generated


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'release = "12.4.1"\nlabel = "CUDA 12.4 Update 1"\ndriver = "550.54.15"',
            'release = "12.4.1"\nlabel = "CUDA 12.4 Update 1"\ndriver = "r550"',
            r"cuda_kb\.toml: cuda_releases\[33\]\.driver: 'r550' is not a driver version",
        ),
        (
            'release = "12.4.0"\nlabel = "CUDA 12.4 GA"',
            'release = "12.4.9"\nlabel = "CUDA 12.4 GA"',
            r"cuda_releases\[33\]: cuda_releases is not sorted \(or has a duplicate\): "
            r"\(12, 4, 1\) follows \(12, 4, 9\)",
        ),
        (
            'torch = "2.9"\ncuda = "cu130"\narch_list = "7.5;8.0;8.6;9.0;10.0;12.0+PTX"',
            'torch = "2.9"\ncuda = "cu130"\narch_list = "7.5;8.0;sm_90"',
            r"torch_builds\[23\]\.arch_list: 'sm_90' is not an architecture",
        ),
        (
            'name = "T4"\naliases = ["T4", "Tesla T4"]\ncc = "7.5"\nsegment = "datacenter"\n'
            'source = "cuda-gpus"',
            'name = "T4"\naliases = ["T4", "Tesla T4"]\ncc = "7.5"\nsegment = "datacenter"\n'
            'source = "nvidia-blog"',
            r"gpus\[39\]\.source: unknown source 'nvidia-blog'",
        ),
        (
            'torch = "2.9"\ncudnn_major = 9\npypi = "cu128"',
            'torch = "2.9"\ncudnn_major = 9\npypi = "cu129"',
            r"torch_releases\[8\]\.pypi: no cu129 build of 2\.9",
        ),
        (
            'toolkit = "13.0.2"\npins = [\n    "nvidia-cublas==13.1.0.3.*",',
            'toolkit = "13.0.2"\npins = [\n    "nvidia-cublas>=13.1.0.3",',
            r"toolkit_wheels\[12\]\.pins: 'nvidia-cublas>=13\.1\.0\.3' is not an exact pin",
        ),
        (
            'branch = 590\ndesignation = "new-feature"',
            'branch = 590\ndesignation = "beta"',
            r"driver_branches\[8\]\.designation: unknown 'beta'",
        ),
    ],
    ids=[
        "bad-driver",
        "unsorted",
        "bad-arch",
        "unknown-source",
        "pypi-build-missing",
        "range-pin",
        "unknown-designation",
    ],
)
def test_checker_names_file_and_key(
    kb_copy: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    old: str,
    new: str,
    message: str,
) -> None:
    source, generated = kb_copy
    edit(source, old, new)
    assert run(["check", str(source), str(generated)]) == 1
    assert run(["regenerate", str(source), str(generated)]) == 1
    err = capsys.readouterr().err
    assert str(source) in err
    assert re.search(message, err), err
    assert generated.read_text(encoding="utf-8") == data_file(KB_JSON).read_text(encoding="utf-8")


def test_a_release_without_its_ga_row(
    kb_copy: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    source, generated = kb_copy
    edit(
        source,
        '[[cuda_releases]]\nrelease = "12.4.0"\nlabel = "CUDA 12.4 GA"\ndriver = "550.54.14"\n\n',
        "",
    )
    assert run(["check", str(source), str(generated)]) == 1
    assert "CUDA 12.4 Update 1: no GA row" in capsys.readouterr().err


def test_stale_json_and_regenerate(
    kb_copy: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    source, generated = kb_copy
    edit(source, 'label = "CUDA 13.1 Update 1"', 'label = "CUDA 13.1 Update 1 (Dec 2025)"')
    assert run(["check", str(source), str(generated)]) == 1
    assert f"{generated}: out of date with cuda_kb.toml" in capsys.readouterr().err
    assert run(["regenerate", str(source), str(generated)]) == 0
    assert run(["check", str(source), str(generated)]) == 0
    assert "CUDA 13.1 Update 1 (Dec 2025)" in generated.read_text(encoding="utf-8")
    assert generated.read_text(encoding="utf-8").startswith(
        '{\n  "generated": "generated — do not edit'
    )


def test_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert run([]) == 2
    assert run(["fix"]) == 2
    assert "usage: python -m imagekit.gpu.kb_tool check|regenerate" in capsys.readouterr().err


@pytest.mark.network  # pip fetches the build backend (hatchling)
@pytest.mark.slow
def test_the_wheel_ships_the_knowledge_base(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[2]
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(repo)],
        check=True,
    )
    (wheel,) = tmp_path.glob("imagekit-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"imagekit/data/cuda_kb.json", "imagekit/data/cuda_kb.toml"} <= names
