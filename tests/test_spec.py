from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from _projects import EXAMPLE, TORCH, copy_project, edit_spec

from imagekit.errors import InputError
from imagekit.project.spec import load_spec


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(EXAMPLE, tmp_path / "iris")


def test_example_spec_reads() -> None:
    spec = load_spec(EXAMPLE)
    assert spec.name == "iris-classifier"
    assert spec.image_ref == "iris-classifier:1.0.0"
    assert spec.base == "debian-bookworm-py311"
    assert spec.lockfile == EXAMPLE.resolve() / "requirements.lock"
    assert spec.user == "model"  # non-root by default
    assert spec.entrypoint == ("python", "-m", "iris_model.predict")
    assert [a.dest.as_posix() for a in spec.artifacts] == ["/opt/model/iris.joblib"]
    assert spec.critical == {"numpy", "scipy", "scikit-learn"}
    assert spec.datasets[0].name == "iris"


def test_pyproject_tool_table(tmp_path: Path) -> None:
    text = (EXAMPLE / "imagekit.toml").read_text(encoding="utf-8")
    body = []
    for line in text.splitlines():
        if line.startswith("[["):
            body.append("[[tool.imagekit." + line[2:])
        elif line.startswith("["):
            body.append("[tool.imagekit." + line[1:])
        else:
            body.append(line)
    pyproject = tmp_path / "pyproject.toml"
    first_table = next(i for i, line in enumerate(body) if line.startswith("["))
    head = ["[project]", 'name = "iris"', "", "[tool.imagekit]", *body[:first_table]]
    pyproject.write_text("\n".join(head + body[first_table:]) + "\n", encoding="utf-8")
    spec = load_spec(tmp_path)
    assert spec.name == "iris-classifier"
    assert spec.location("base").key == "tool.imagekit.base"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'version = "1.0.0"',
            'version = "1.0.0"\nbasse = "x"',
            r"imagekit\.toml: basse: unknown key",
        ),
        (
            'version = "1.0.0"',
            "version = 1",
            r"imagekit\.toml: version: must be a string, got an integer",
        ),
        (
            'lockfile = "requirements.lock"\n',
            "",
            r"imagekit\.toml: lockfile: required key is missing",
        ),
        ("ports = []", 'ports = ["8080"]', r"imagekit\.toml: ports\[0\]: must be an integer"),
        ("ports = []", "ports = [70000]", r"ports\[0\]: port 70000 is out of range"),
        (
            'workdir = "/app"',
            'workdir = "/app"\nuser = "root"',
            r"user: the image must not run as root",
        ),
        (
            'name = "iris-classifier"',
            'name = "Iris Classifier"',
            r"name: 'Iris Classifier' is not a valid image name",
        ),
        (
            'lockfile = "requirements.lock"',
            'lockfile = "../x.lock"',
            r"lockfile: '\.\./x\.lock' must be a path inside",
        ),
        ("optional = []", 'optional = ["NumPy"]', r"numpy marked both critical and optional"),
        ('task = "classification"', "task = 3", r"artifacts\[0\]\.card\.task: must be a string"),
        (
            'platform = "linux/amd64"',
            'platform = "windows/amd64"',
            r"platform: unknown platform 'windows/amd64'",
        ),
    ],
)
def test_bad_spec(project: Path, old: str, new: str, message: str) -> None:
    edit_spec(project, old, new)
    with pytest.raises(InputError, match=message):
        load_spec(project)


def test_malformed_toml_names_the_line(project: Path) -> None:
    edit_spec(project, 'base = "debian-bookworm-py311"', "base = debian")
    with pytest.raises(InputError, match=r"imagekit\.toml:4: malformed TOML"):
        load_spec(project)


def test_system_packages_must_be_pinned(project: Path) -> None:
    edit_spec(project, "[app]", '[system]\npackages = ["libgomp1"]\n\n[app]')
    with pytest.raises(InputError, match=r"system\.packages\[0\]: 'libgomp1' is not pinned"):
        load_spec(project)
    edit_spec(project, '"libgomp1"', '"libgomp1=12.2.0-14"')
    assert [p.name for p in load_spec(project).system_packages] == ["libgomp1"]


def test_no_spec(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"imagekit\.toml: no model spec found"):
        load_spec(tmp_path)


def test_env_control_characters_are_kept_out_of_names(project: Path) -> None:
    edit_spec(project, "[env]", '[env]\n"BAD NAME" = "x"')
    with pytest.raises(InputError, match=r"env\.BAD NAME: not a valid environment variable"):
        load_spec(project)


def test_reading_a_spec_loads_neither_numpy_nor_docker_nor_the_gpu_package() -> None:
    """`check` and `build` read specs and plans; the [verify] parser (and with it numpy and
    the docker SDK) is imported only for a spec that has a [verify] table."""
    heavy = ("numpy", "docker", "imagekit.gpu", "imagekit.verify")
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "import imagekit.plan.model\n"
        "from imagekit.project.spec import load_spec\n"
        f"load_spec(Path({str(TORCH)!r}))\n"
        f"print(sorted(m for m in sys.modules if m.startswith({heavy!r})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout == "[]\n", done.stderr
    assert load_spec(EXAMPLE).verify is not None  # with [verify], it is still parsed
