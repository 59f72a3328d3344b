"""`imagekit init` writes what it found and marks what it guessed; `imagekit check` refuses an
image whose Python entry point is not in it."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest
from _projects import EXAMPLE, copy_project, edit_spec
from typer.testing import CliRunner

from imagekit.checks.run import run_checks
from imagekit.cli import app
from imagekit.diff.model import Ecosystem, RiskClass
from imagekit.diff.risk import default_table
from imagekit.errors import Finding, Severity
from imagekit.plan.prepare import check_project, prepare, prepared
from imagekit.project.entrypoint import Target, python_target
from imagekit.project.init import NUMERIC_PACKAGES

runner = CliRunner()
LOCK = EXAMPLE / "requirements.lock"  # joblib, numpy, scikit-learn, scipy, threadpoolctl


def init(folder: Path) -> dict[str, object]:
    result = runner.invoke(app, ["init", str(folder)])
    assert result.exit_code == 0, result.output
    return tomllib.loads((folder / "imagekit.toml").read_text(encoding="utf-8"))


def entrypoint_findings(project: Path) -> list[Finding]:
    return [f for f in run_checks(project).findings if f.rule == "entrypoint"]


@pytest.fixture
def iris(tmp_path: Path) -> Path:
    return copy_project(EXAMPLE, tmp_path / "iris")


def test_init_on_the_example_finds_its_module_lock_numerics_and_model(iris: Path) -> None:
    (iris / "imagekit.toml").unlink()
    spec = init(iris)
    assert spec["entrypoint"] == ["python", "-m", "iris_model.predict"]
    assert spec["env"] == {"PYTHONPATH": "/app/src"}
    assert spec["app"] == {
        "include": ["src/iris_model/**"],
        "exclude": ["tests/**", "**/__pycache__/**"],
    }
    assert spec["dependencies"] == {
        "critical": ["numpy", "scikit-learn", "scipy"],
        "optional": [],
    }
    text = (iris / "imagekit.toml").read_text(encoding="utf-8")
    assert "# found: src/iris_model/predict.py" in text
    assert 'name = "iris"  # guessed: the folder\'s name' in text
    assert "# found in requirements.lock: numerical libraries whose updates matter" in text
    checked = runner.invoke(app, ["check", str(iris)])
    assert checked.exit_code == 0, checked.output
    # train.py sits beside the package: the include keeps it out of the image.
    app_files = {f.source for layer in prepare(iris).plan.layers for f in layer.files}
    assert "src/iris_model/predict.py" in app_files
    assert "train.py" not in app_files and "reference/inputs.csv" not in app_files


def test_init_without_an_entry_point_writes_a_spec_check_refuses(tmp_path: Path) -> None:
    folder = tmp_path / "bare"
    folder.mkdir()
    shutil.copy(LOCK, folder / "requirements.lock")
    (folder / "train.py").write_text("print('fit')\n", encoding="utf-8")
    spec = init(folder)
    assert spec["entrypoint"] == []
    assert spec["app"] == {"include": [], "exclude": ["tests/**"]}
    text = (folder / "imagekit.toml").read_text(encoding="utf-8")
    assert "# NOT FOUND: no package with __main__.py" in text
    assert "`imagekit check` refuses this spec until then" in text
    checked = runner.invoke(app, ["check", str(folder)])
    assert checked.exit_code == 2
    assert checked.stderr == (
        f"error: {folder / 'imagekit.toml'}: entrypoint: the image has nothing to run "
        '(set entrypoint = ["python", "-m", "your_model"])\n'
    )


def test_init_script_entry_includes_what_it_imports_not_train_py(tmp_path: Path) -> None:
    folder = tmp_path / "scripted"
    (folder / "features").mkdir(parents=True)
    shutil.copy(LOCK, folder / "requirements.lock")
    (folder / "predict.py").write_text(
        "import json\nimport numpy\nfrom helpers import load\nimport features.scale\n",
        encoding="utf-8",
    )
    (folder / "helpers.py").write_text("import shapes\ndef load(): ...\n", encoding="utf-8")
    (folder / "shapes.py").write_text("", encoding="utf-8")
    (folder / "features" / "__init__.py").write_text("", encoding="utf-8")
    (folder / "features" / "scale.py").write_text("", encoding="utf-8")
    (folder / "train.py").write_text("import helpers\n", encoding="utf-8")
    (folder / "notes.ipynb").write_text("{}", encoding="utf-8")
    spec = init(folder)
    assert spec["entrypoint"] == ["python", "predict.py"]
    assert spec["app"] == {
        "include": ["predict.py", "features/**", "helpers.py", "shapes.py"],
        "exclude": ["tests/**", "**/__pycache__/**"],
    }
    assert "env" not in spec
    result = check_project(folder)
    assert result.ok, result.findings
    app_files = {f.dest for layer in prepared(result).plan.layers for f in layer.files}
    assert app_files == {
        "/app/predict.py",
        "/app/helpers.py",
        "/app/shapes.py",
        "/app/features/__init__.py",
        "/app/features/scale.py",
    }


def test_init_with_no_numeric_package_says_none_found(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    six = (
        "six==1.17.0 --hash=sha256:"
        "4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274\n"
    )
    (folder / "requirements.lock").write_text(six, encoding="utf-8")
    (folder / "serve.py").write_text("import six\n", encoding="utf-8")
    spec = init(folder)
    assert spec["dependencies"] == {"critical": [], "optional": []}
    assert "critical = []  # none found in requirements.lock" in (
        folder / "imagekit.toml"
    ).read_text(encoding="utf-8")


def test_numeric_packages_are_numeric_risk_in_the_shipped_table() -> None:
    table = default_table()
    for name in sorted(NUMERIC_PACKAGES):
        rule = table.for_package(Ecosystem.PYTHON, name)
        assert rule is not None and rule.risk is RiskClass.NUMERIC, name


@pytest.mark.parametrize(
    ("argv", "target"),
    [
        (("python", "-m", "iris_model.predict"), Target(module="iris_model.predict")),
        (("/usr/bin/python3.11", "-u", "-mserve"), Target(module="serve")),
        (("python3", "-W", "ignore", "-X", "dev", "app.py", "--port"), Target(script="app.py")),
        (("python", "--", "-odd.py"), Target(script="-odd.py")),
        (("python", "-c", "import model"), None),
        (("python", "-"), None),
        (("sh", "-c", "python -m model"), None),
        (("uvicorn", "app:main"), None),
        (("python",), None),
    ],
)
def test_python_target(argv: tuple[str, ...], target: Target | None) -> None:
    assert python_target(argv) == target


def test_check_refuses_a_missing_submodule(iris: Path) -> None:
    edit_spec(iris, '"iris_model.predict"]', '"iris_model.serve"]')
    [finding] = entrypoint_findings(iris)
    assert finding.severity is Severity.ERROR
    assert finding.message == (
        "the entrypoint runs python -m iris_model.serve, but the application files hold "
        "iris_model without iris_model.serve (searched /app, /app/src)"
    )
    assert finding.fix.startswith("add iris_model/serve.py (or its __main__.py) to [app] include")
    assert runner.invoke(app, ["check", str(iris)]).exit_code == 1


def test_check_refuses_a_module_off_the_path(iris: Path) -> None:
    edit_spec(iris, 'PYTHONPATH = "/app/src"', 'OTHER = "1"')
    [finding] = entrypoint_findings(iris)
    assert finding.severity is Severity.ERROR
    assert "which the application files hold under /app/src, not on the module path" in (
        finding.message
    )
    assert finding.fix == 'add /app/src to PYTHONPATH in [env]: PYTHONPATH = "/app/src"'


def test_check_refuses_a_script_not_copied(iris: Path) -> None:
    edit_spec(iris, '["python", "-m", "iris_model.predict"]', '["python", "train.py"]')
    [finding] = entrypoint_findings(iris)
    assert finding.severity is Severity.ERROR
    assert finding.message == (
        "the entrypoint runs train.py, which is not among the application files copied to /app"
    )
    assert finding.fix == 'add "train.py" to [app] include (or correct entrypoint)'


def test_check_warns_for_a_module_nowhere_and_accepts_a_locked_one(iris: Path) -> None:
    edit_spec(iris, '"-m", "iris_model.predict"]', '"-m", "model"]')
    [finding] = entrypoint_findings(iris)
    assert finding.severity is Severity.WARNING
    assert "the container fails with No module named model" in finding.message
    edit_spec(iris, '"-m", "model"]', '"-m", "joblib"]')  # a locked package's own name
    assert entrypoint_findings(iris) == []
    edit_spec(iris, '"-m", "joblib"]', '"-c", "import model"]')  # not checked
    assert entrypoint_findings(iris) == []
