"""One version of each package for the target: the real torch 2.13.0 locks of Poetry and uv,
compared with what the tools themselves install, and hand-written locks for the edges."""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from _projects import EXAMPLE, copy_project, edit_spec
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import Version
from typer.testing import CliRunner

from imagekit.checks.lock import applicable
from imagekit.cli import app
from imagekit.errors import ErrorCollector, Location
from imagekit.project.lockfile import (
    Dependency,
    Lock,
    LockedPackage,
    LockFormat,
    canonical,
    packages_for,
    read_lock,
)
from imagekit.project.lockfile.select import MAX_COMBINATIONS, resolve
from imagekit.project.target import TargetEnv

TORCH = Path(__file__).parent.parent / "data" / "locks" / "torch"
AMD64_311 = TargetEnv(python=Version("3.11.2"), platform="linux/amd64")
H = "a" * 64
META = '[metadata]\nlock-version = "2.1"\npython-versions = ">=3.11"\ncontent-hash = "x"\n'


def _pins(packages: tuple[LockedPackage, ...]) -> list[str]:
    return sorted(f"{p.name}=={p.version}" for p in packages)


def _installed(dry_run: Path, pattern: str) -> list[str]:
    """The `name==version` lines of a tool's recorded dry run."""
    text = dry_run.read_text(encoding="utf-8")
    return sorted(f"{m[0]}=={m[1]}" for m in re.findall(pattern, text, re.MULTILINE))


def _poetry_installs(name: str) -> list[str]:
    return _installed(TORCH / name, r"^  - Installing (\S+) \((\S+)\)$")


def test_the_real_poetry_lock_offers_two_cublas_and_two_nvrtc_on_linux_x86_64() -> None:
    """What the old selection installed, and Poetry's default installer too: both of each."""
    lock = read_lock(TORCH / "poetry.lock")
    env = AMD64_311.marker_environment()
    offered = [p for p in lock.packages if p.marker is None or p.marker.evaluate(env)]
    doubled = sorted({p.name for p in offered if [q.name for q in offered].count(p.name) > 1})
    assert doubled == ["nvidia-cublas", "nvidia-cuda-nvrtc"]
    default = _poetry_installs("poetry-install.dry-run.txt")
    assert len(default) == 32
    assert {"nvidia-cublas==13.1.1.3", "nvidia-cublas==13.10.0.20"} <= set(default)


def test_the_real_poetry_lock_resolves_as_poetry_re_resolve_and_uv_install() -> None:
    resolution = resolve(read_lock(TORCH / "poetry.lock"), AMD64_311.marker_environment())
    assert resolution.unresolved == ()
    names = [p.name for p in resolution.packages]
    assert len(names) == len(set(names)) == 30
    chosen = _pins(resolution.packages)
    assert chosen == _poetry_installs("poetry-install-re-resolve.dry-run.txt")
    assert chosen == _installed(TORCH / "uv-sync-py311.dry-run.txt", r"^ \+ (\S+)==(\S+)$")
    assert {"nvidia-cublas==13.1.1.3", "nvidia-cuda-nvrtc==13.0.88"} <= set(chosen)


def test_the_real_poetry_lock_passes_the_lock_checks() -> None:
    collector = ErrorCollector()
    installed = applicable(read_lock(TORCH / "poetry.lock"), AMD64_311, collector)
    assert collector.findings == ()
    assert len(installed) == 30


def _project(tmp_path: Path, lock: Path) -> Path:
    """The example model on its Debian base (CPython 3.11.2), locked by `lock`."""
    project = copy_project(EXAMPLE, tmp_path / "model")
    (project / "requirements.lock").unlink()
    (project / "poetry.lock").write_bytes(lock.read_bytes())
    edit_spec(project, 'lockfile = "requirements.lock"', 'lockfile = "poetry.lock"')
    edit_spec(project, 'critical = ["numpy", "scipy", "scikit-learn"]', 'critical = ["numpy"]')
    return project


def test_imagekit_check_passes_the_real_poetry_torch_lock(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["check", str(_project(tmp_path, TORCH / "poetry.lock"))])
    assert result.exit_code == 0, result.output
    assert "conflict" not in result.output


@pytest.mark.parametrize(
    ("python", "numpy", "networkx"), [("3.11.2", "2.4.6", "3.6.1"), ("3.12.3", "2.5.5", "3.7")]
)
def test_the_real_uv_lock_takes_the_fork_of_the_target(
    python: str, numpy: str, networkx: str
) -> None:
    env = TargetEnv(python=Version(python), platform="linux/amd64").marker_environment()
    resolution = resolve(read_lock(TORCH / "uv.lock"), env)
    chosen = _pins(resolution.packages)
    assert resolution.unresolved == ()
    assert {f"numpy=={numpy}", f"networkx=={networkx}", "nvidia-cublas==13.1.1.3"} <= set(chosen)
    assert len({p.name for p in resolution.packages}) == len(chosen) == 30
    exported = read_lock(TORCH / "pylock.uv-export.toml")
    assert chosen == _pins(packages_for(exported, env))


def test_poetry_export_of_the_lock_keeps_both_versions_and_says_so() -> None:
    """A requirements file records no graph to choose by: both stay, and are reported."""
    env = AMD64_311.marker_environment()
    resolution = resolve(read_lock(TORCH / "poetry-export.requirements.txt"), env)
    assert [(u.name, [str(p.version) for p in u.offered]) for u in resolution.unresolved] == [
        ("nvidia-cublas", ["13.1.1.3", "13.10.0.20"]),
        ("nvidia-cuda-nvrtc", ["13.0.88", "13.5.37"]),
    ]


def _package(name: str, version: str, deps: str = "", marker: str = "", group: str = "main") -> str:
    markers = f"markers = {marker!r}\n" if marker else ""
    text = (
        f'[[package]]\nname = "{name}"\nversion = "{version}"\noptional = false\n'
        f'python-versions = "*"\ngroups = ["{group}"]\n{markers}'
        f'files = [{{file = "{name}-{version}-py3-none-any.whl", hash = "sha256:{H}"}}]\n'
    )
    return text + (f"\n[package.dependencies]\n{deps}\n" if deps else "") + "\n"


def _lock(tmp_path: Path, *packages: str) -> Lock:
    path = tmp_path / "poetry.lock"
    path.write_text("".join(packages) + META, encoding="utf-8")
    return read_lock(path)


def _resolved(lock: Lock) -> list[str]:
    return _pins(resolve(lock, AMD64_311.marker_environment()).packages)


def test_no_version_satisfies_both_requirements_so_both_are_kept_and_refused(
    tmp_path: Path,
) -> None:
    lock = _lock(
        tmp_path,
        _package("a", "1.0", 'b = "==1.0"'),
        _package("b", "1.0"),
        _package("b", "2.0"),
        _package("c", "1.0", 'b = ">=2"'),
    )
    resolution = resolve(lock, AMD64_311.marker_environment())
    assert _pins(resolution.packages) == ["a==1.0", "b==1.0", "b==2.0", "c==1.0"]
    assert [str(u) for u in resolution.unresolved] == [
        "b: the lock offers 1.0, 2.0, and no one version satisfies: "
        "a 1.0 requires b==1.0; c 1.0 requires b>=2"
    ]
    collector = ErrorCollector()
    applicable(lock, AMD64_311, collector)
    assert [f.message for f in collector.findings if f.rule == "conflict"] == [
        f"b ==2.0 conflicts with ==1.0 at {lock.path}:13: package[1]",
        "c needs b>=2, the lock has 1.0",
    ]
    project = _project(tmp_path, lock.path)
    edit_spec(project, 'critical = ["numpy"]', "critical = []")
    result = CliRunner().invoke(app, ["check", str(project)])
    assert result.exit_code == 1, result.output
    assert "error: b ==2.0 conflicts with ==1.0 at " in result.stderr


def test_the_newest_version_every_requirement_accepts_is_chosen(tmp_path: Path) -> None:
    lock = _lock(
        tmp_path,
        _package("a", "1.0", 'b = "<3"'),
        _package("b", "1.0"),
        _package("b", "2.0"),
        _package("b", "3.0"),
        _package("c", "1.0", 'b = "*"'),
    )
    assert _resolved(lock) == ["a==1.0", "b==2.0", "c==1.0"]


def test_poetry_bare_versions_pin_exactly(tmp_path: Path) -> None:
    lock = _lock(tmp_path, _package("a", "1.0", 'b = "1.0"'), _package("b", "1.0.1"))
    assert [str(d.specifier) for d in lock.packages[0].dependencies or ()] == ["==1.0"]
    lock = _lock(
        tmp_path, _package("a", "1.0", 'b = "1.0"'), _package("b", "1.0"), _package("b", "2.0")
    )
    assert _resolved(lock) == ["a==1.0", "b==1.0"]


def test_an_edge_under_an_extra_counts_only_when_the_extra_is_asked_for(tmp_path: Path) -> None:
    toolkit = _package(
        "toolkit", "1.0", 'blas = {version = "==1.0", markers = "extra == \\"blas\\""}'
    )
    offered = (
        _package("blas", "1.0"),
        _package("blas", "2.0"),
        _package("any", "1.0", 'blas = "*"'),
    )
    asked = _package("app", "1.0", 'toolkit = {version = "1.0", extras = ["blas"]}')
    not_asked = _package("app", "1.0", 'toolkit = "1.0"')
    assert _resolved(_lock(tmp_path, asked, toolkit, *offered)) == [
        "any==1.0", "app==1.0", "blas==1.0", "toolkit==1.0"
    ]  # fmt: skip
    assert _resolved(_lock(tmp_path, not_asked, toolkit, *offered)) == [
        "any==1.0", "app==1.0", "blas==2.0", "toolkit==1.0"
    ]  # fmt: skip


def test_a_requirement_of_a_version_left_out_does_not_count(tmp_path: Path) -> None:
    lock = _lock(
        tmp_path,
        _package("a", "1.0", 'b = "*"\nc = "==1.0"'),
        _package("b", "1.0"),
        _package("b", "2.0", 'c = "==2.0"'),  # the newest b asks for the c that a refuses
        _package("c", "1.0"),
        _package("c", "2.0"),
    )
    assert _resolved(lock) == ["a==1.0", "b==1.0", "c==1.0"]


def test_versions_whose_markers_fail_are_not_offered(tmp_path: Path) -> None:
    lock = _lock(
        tmp_path,
        _package("b", "1.0", marker='platform_machine == "aarch64"'),
        _package("b", "2.0", marker='platform_machine == "x86_64"'),
    )
    assert _resolved(lock) == ["b==2.0"]


def test_only_the_main_group_is_offered_unless_others_are_asked_for(tmp_path: Path) -> None:
    lock = _lock(
        tmp_path,
        _package("a", "1.0", 'b = "*"'),
        _package("b", "1.0", group="dev"),
        _package("b", "2.0"),
        _package("c", "1.0", 'b = "==1.0"', group="dev"),
    )
    env = AMD64_311.marker_environment()
    assert _resolved(lock) == ["a==1.0", "b==2.0"]
    both = resolve(lock, env, groups={"main", "dev"})
    assert (_pins(both.packages), both.unresolved) == (["a==1.0", "b==1.0", "c==1.0"], ())


def test_a_conflict_in_one_name_leaves_the_others_resolved(tmp_path: Path) -> None:
    names = [f"p{i}" for i in range(20)]
    doubled = [_package(n, v) for n in names for v in ("1.0", "2.0")]
    picky = _package(
        "z", "1.0", "\n".join(f'{n} = "==1.0"' for n in names[:-1]) + '\np19 = "==3.0"'
    )
    resolution = resolve(_lock(tmp_path, *doubled, picky), AMD64_311.marker_environment())
    assert [u.name for u in resolution.unresolved] == ["p19"]
    assert _pins(resolution.packages) == sorted(
        [*(f"{n}==1.0" for n in names[:-1]), "p19==1.0", "p19==2.0", "z==1.0"]
    )


def test_a_lock_of_many_linked_doubled_names_is_refused_within_the_bound(tmp_path: Path) -> None:
    """Twenty names that ask for each other: 2^20 combinations, at most MAX_COMBINATIONS tried."""
    names = [f"p{i}" for i in range(20)]
    doubled = [
        _package(n, v, f'{names[i + 1]} = "*"' if i + 1 < len(names) else "")
        for i, n in enumerate(names)
        for v in ("1.0", "2.0")
    ]
    picky = _package("z", "1.0", 'p0 = "==1.0"\np19 = "==3.0"')
    lock = _lock(tmp_path, *doubled, picky)
    start = time.monotonic()
    resolution = resolve(lock, AMD64_311.marker_environment())
    assert time.monotonic() - start < 5
    assert MAX_COMBINATIONS < 2**20
    assert [u.name for u in resolution.unresolved] == names


_SPECIFIERS = ("", "==1.0", ">=2.0", "<3.0", "!=2.0")


@st.composite
def _graph_locks(draw: st.DrawFn) -> Lock:
    """Up to four names in one to three versions each, every version asking for some others."""
    names = draw(st.lists(st.sampled_from("abcd"), min_size=1, max_size=4, unique=True))
    packages: list[LockedPackage] = []
    for name in names:
        for version in draw(st.sets(st.sampled_from(("1.0", "2.0", "3.0")), min_size=1)):
            wanted = draw(st.dictionaries(st.sampled_from(names), st.sampled_from(_SPECIFIERS)))
            packages.append(
                LockedPackage(
                    name=canonical(name),
                    raw_name=name,
                    location=Location(file=Path("poetry.lock"), line=len(packages) + 1),
                    version=Version(version),
                    specifier=f"=={version}",
                    dependencies=tuple(
                        Dependency(name=canonical(n), specifier=SpecifierSet(s))
                        for n, s in sorted(wanted.items())
                        if n != name
                    ),
                )
            )
    return Lock(path=Path("poetry.lock"), format=LockFormat.POETRY, packages=tuple(packages))


def _all_accepted(installed: Sequence[LockedPackage], doubled: set[NormalizedName]) -> bool:
    version = {p.name: p.version for p in installed}
    return all(
        d.specifier.contains(str(version[d.name]))
        for p in installed
        for d in p.dependencies or ()
        if d.name in doubled
    )


@settings(max_examples=200, deadline=None, derandomize=True)
@given(_graph_locks())
def test_a_choice_is_made_exactly_when_one_satisfies_every_edge(lock: Lock) -> None:
    """Checked against trying every combination of the doubled names' versions."""
    resolution = resolve(lock, AMD64_311.marker_environment())
    by_name = lock.by_name()
    doubled = {n for n, versions in by_name.items() if len(versions) > 1}
    single = [v[0] for n, v in by_name.items() if n not in doubled]
    exists = any(
        _all_accepted([*single, *combination], doubled)
        for combination in itertools.product(*(by_name[n] for n in sorted(doubled)))
    )
    assert (resolution.unresolved == ()) == exists
    if exists:
        assert sorted(p.name for p in resolution.packages) == sorted(by_name)
        assert _all_accepted(resolution.packages, doubled)
