"""Licence review as teams split it: the base's Debian packages by the platform team's base
policy (base_images/policy/licenses.toml), the model's dependencies by the project's policy;
a starter policy from `imagekit licenses init`; the whole format in `licenses --help`."""

from __future__ import annotations

from pathlib import Path

import docker
import pytest
from typer.testing import CliRunner

from imagekit.build.baseimage import BaseBuildResult
from imagekit.cli import app
from imagekit.licenses import LicensedComponent, LicensePolicy, Verdict
from imagekit.licenses.scopes import base_policy_path, evaluate_scoped
from imagekit.licenses.starter import STARTER_POLICY
from imagekit.resources import base_images_dir

runner = CliRunner()
PERMISSIVE = """\
allow = ["MIT", "BSD-2-Clause", "BSD-3-Clause", "Apache-2.0", "PSF-2.0", "ISC"]
deny = ["GPL-3.0-only", "AGPL-3.0-only"]
"""
# As the stock base's dpkg copyright files declare them (imagekit licenses on the base image).
LIBCAP_NG = LicensedComponent(
    name="libcap-ng0",
    version="0.8.3-1+b3",
    kind="deb",
    expressions=("GPL-2.0-or-later", "GPL-3.0-only", "LGPL-2.1-or-later"),
    names=(),
)
READLINE_PYPI = LicensedComponent(
    name="gnureadline", version="8.1.2", kind="pypi", expressions=("GPL-3.0-only",), names=()
)


@pytest.fixture
def permissive(tmp_path: Path) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(PERMISSIVE, encoding="utf-8")
    return path


def test_help_shows_the_whole_policy_format() -> None:
    result = runner.invoke(app, ["licenses", "--help"], terminal_width=120)
    assert result.exit_code == 0
    for text in (
        'allow = ["MIT", "BSD-3-Clause", "Apache-2.0"]',
        'review = ["LGPL-2.1-or-later"]',
        'deny = ["GPL-3.0-only", "AGPL-3.0-only"]',
        "[[exceptions]]",
        'package = "nvidia-cuda-runtime-cu12"',
        'reason = "CUDA EULA accepted by legal (ticket LEGAL-123)"',
        "deny, [[exceptions]])",
        "imagekit licenses init --policy FILE",
    ):
        assert text in result.stdout, text


def test_base_packages_by_the_base_policy_the_rest_by_the_projects(permissive: Path) -> None:
    path = base_policy_path()
    assert path == base_images_dir() / "policy" / "licenses.toml"
    report = evaluate_scoped(
        [LIBCAP_NG, READLINE_PYPI], LicensePolicy.load(permissive), LicensePolicy.load(path)
    )
    verdicts = {d.component.name: (d.verdict, d.rule) for d in report.decisions}
    assert verdicts["libcap-ng0"] == (Verdict.ALLOW, f"{path}: allow[3]")  # GPL-2.0-or-later
    assert verdicts["gnureadline"] == (Verdict.DENY, f"{permissive}: deny[0]")
    # Without a base policy, the project's policy judges the Debian package too.
    alone = evaluate_scoped([LIBCAP_NG], LicensePolicy.load(permissive), None)
    assert alone.decisions[0].verdict is Verdict.DENY


def test_licenses_init_writes_a_starter_policy_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first = runner.invoke(app, ["licenses", "init"])
    assert first.exit_code == 0, first.output
    assert first.stdout == (
        "wrote license-policy.toml: edit it, then: imagekit licenses IMAGE "
        "--policy license-policy.toml\n"
    )
    written = tmp_path / "license-policy.toml"
    assert written.read_text(encoding="utf-8") == STARTER_POLICY
    mit = LicensePolicy.load(written).rule("MIT")
    assert mit is not None and mit.verdict is Verdict.ALLOW
    again = runner.invoke(app, ["licenses", "init"])
    assert again.exit_code == 2
    assert "license-policy.toml: already exists (edit it, or choose another --policy path)" in (
        again.stderr
    )
    named = runner.invoke(app, ["licenses", "init", "--policy", "team.toml"])
    assert named.exit_code == 0 and (tmp_path / "team.toml").is_file()


def test_judging_without_a_policy_says_how_to_get_one(tmp_path: Path) -> None:
    result = runner.invoke(app, ["licenses", str(tmp_path / "sbom.cdx.json")])
    assert result.exit_code == 2
    assert "no licence policy given (pass --policy FILE (imagekit licenses init" in result.stderr


@pytest.mark.docker
def test_the_stock_base_passes_a_permissive_policy(
    docker_client: docker.DockerClient, debian_base: BaseBuildResult, permissive: Path
) -> None:
    result = runner.invoke(app, ["licenses", debian_base.tag, "--policy", str(permissive)])
    assert result.exit_code == 0, result.output
    summary = result.stdout.splitlines()[-1]
    assert " 0 denied, " in summary, summary
    assert "allowed" in summary
