"""`imagekit licenses` and `imagekit sbom` in-process: SBOM files as input, exit codes, output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _inventories import iris_cuda
from typer.testing import CliRunner

from imagekit.cli import app
from imagekit.errors import InputError
from imagekit.licenses import read_sbom
from imagekit.sbom import write_sbom

runner = CliRunner()
DATA = Path(__file__).resolve().parent.parent / "data" / "sbom"
POLICY = DATA / "policies" / "example.policy.toml"


@pytest.fixture
def sbom_file(tmp_path: Path) -> Path:
    return write_sbom(iris_cuda(), tmp_path / "iris.cdx.json", reproducible=True)


def test_denied_licence_exits_1_naming_package_version_licence_rule(sbom_file: Path) -> None:
    # Debian packages are judged by the base policy: here the same file, to reach libc6.
    result = runner.invoke(
        app, ["licenses", str(sbom_file), "--policy", str(POLICY), "--base-policy", str(POLICY)]
    )
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["VERDICT", "KIND", "NAME", "VERSION", "LICENCE", "RULE"]
    assert lines[1].split()[:4] == ["deny", "deb", "libc6", "2.36-9+deb12u10"]
    assert lines[-1] == "13 components: 1 denied, 4 to review, 8 allowed"
    assert result.stderr == (
        f"{POLICY}: deny[1]: error: libc6 2.36-9+deb12u10 (deb) is licensed GPL-2.0-or-later AND "
        "LGPL-2.1-or-later, and the policy denies GPL-2.0-or-later [license-denied] (fix: remove or "
        "replace libc6, or add an [[exceptions]] entry for it with license = 'GPL-2.0-or-later' and a reason)\n"
    )


def test_json_output(sbom_file: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY.read_text().replace('"GPL-2.0-or-later", ', ""))
    args = ["--policy", str(policy), "--base-policy", str(policy), "--json"]
    result = runner.invoke(app, ["licenses", str(sbom_file), *args])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["ok"], data["deny"], data["review"], data["allow"]) == (True, 0, 5, 8)
    libc = next(d for d in data["decisions"] if d["name"] == "libc6")
    assert libc["verdict"] == "review"
    assert libc["rule"] == "not in the policy"
    assert libc["purl"].startswith("pkg:deb/debian/libc6@")


def test_bad_policy_exits_2_naming_file_and_key(sbom_file: Path) -> None:
    bad = DATA / "policies" / "not-spdx.policy.toml"
    result = runner.invoke(app, ["licenses", str(sbom_file), "--policy", str(bad)])
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"{bad}: allow[1]: error: 'BSD 3-Clause' is not an SPDX licence identifier"
    )
    assert "Traceback" not in result.output


def test_policy_is_required(sbom_file: Path) -> None:
    result = runner.invoke(app, ["licenses", str(sbom_file)], env={"IMAGEKIT_LICENSE_POLICY": ""})
    assert result.exit_code == 2
    assert "no licence policy given (pass --policy FILE" in result.stderr


def test_an_sbom_from_another_tool() -> None:
    components = read_sbom(DATA / "other-tool.cdx.json")
    assert [(c.kind, c.name, c.expressions, c.names) for c in components] == [
        ("pypi", "requests", ("Apache-2.0",), ()),  # an SPDX id written as a name is still SPDX
        ("deb", "bash", ("GPL-3.0-or-later",), ("GPL-3+",)),
        ("framework", "torch", ("BSD-3-Clause",), ()),
        ("library", "sleef", ("BSL-1.0",), ()),  # nested components are judged too
    ]  # the OS and files are not judged


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", r"bad\.json:1: not JSON: "),
        ("[1, 2]", r"bad\.json: not a JSON object"),
        ('{"spdxVersion": "SPDX-2.3"}', r"bad\.json: bomFormat: not a CycloneDX SBOM"),
    ],
)
def test_bad_sbom_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_sbom(path)


def test_an_xml_sbom_is_named_as_such() -> None:
    xml = DATA / "iris.cyclonedx-xml.1.6.golden"
    result = runner.invoke(app, ["licenses", str(xml), "--policy", str(POLICY)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {xml}:1: not JSON: ")
    assert "(pass a CycloneDX JSON SBOM)" in result.stderr


def test_sbom_of_an_unreadable_image_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "sbom.json"
    result = runner.invoke(app, ["sbom", str(tmp_path / "no-such-image.tar"), "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.output
    assert not out.exists()


def test_sbom_options_are_checked() -> None:
    result = runner.invoke(app, ["sbom", "x:1", "--spec-version", "1.4"])
    assert result.exit_code == 2
    assert "Invalid value for '--spec-version'" in result.stderr
