"""A hostile model folder: every path a spec or a lock names stays inside the project, is a
regular file, and no credential file reaches the image without a word.

Each test names the attack it stands for; FIFOs, links, devices and non-UTF-8 names are made
in a temporary folder (git cannot hold them). Reading a FIFO blocks forever, so the tests that
meet one run under an alarm: a hang fails the test instead of stalling the suite.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from types import FrameType

import numpy as np
import pytest
from _projects import DATA, EXAMPLE, copy_project, edit_spec
from typer.testing import CliRunner

from imagekit.checks.run import run_checks
from imagekit.cli import app
from imagekit.errors import InputError, Severity
from imagekit.limits import MAX_ECHO
from imagekit.paths import MAX_PROJECT_TEXT
from imagekit.plan.model import LayerKind
from imagekit.plan.prepare import check_project, prepared
from imagekit.project.appfiles import CREDENTIAL_PATTERNS, is_credential, matches, select_files
from imagekit.project.lockfile import LockError, read_lock
from imagekit.project.lockfile.requirements import MAX_INCLUDE_DEPTH, MAX_INCLUDED_FILES
from imagekit.project.spec import load_spec
from imagekit.verify import GoldenError, VerifySpec
from imagekit.verify.golden import write_golden

HOSTILE = DATA / "hostile"
H1 = "a" * 64
runner = CliRunner()


@contextmanager
def no_hang(seconds: int = 20) -> Iterator[None]:
    """Fail, rather than hang, if the block blocks on a FIFO."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"blocked for {seconds} s (read a FIFO?)")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def project_with_lock(tmp_path: Path, fixture: str, name: str = "requirements.lock") -> Path:
    """The example model with its lock replaced by a hostile one."""
    project = copy_project(EXAMPLE, tmp_path / "iris")
    (project / "requirements.lock").unlink()
    shutil.copyfile(HOSTILE / fixture, project / name)
    edit_spec(project, 'lockfile = "requirements.lock"', f'lockfile = "{name}"')
    return project


def lock_in(tmp_path: Path, text: str, name: str = "requirements.txt") -> Path:
    path = tmp_path / "project" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def error_lines(stderr: str) -> list[str]:
    """The finding lines `check` printed, without its "N error(s)" summary."""
    return [line for line in stderr.splitlines() if not re.fullmatch(r"\d+ error\(s\)", line)]


# --- 1. -r/-c includes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        (
            "absolute-include.requirements.txt",
            r"included file /etc/passwd is an absolute path; only files inside \S+ are read",
        ),
        (
            "climbing-include.requirements.txt",
            r"included file (\.\./)+etc/passwd is outside the project folder \S+",
        ),
        (
            "proc-environ-include.requirements.txt",
            r"included file /proc/self/environ is an absolute path",
        ),
        ("dev-zero-include.requirements.txt", r"included file /dev/zero is an absolute path"),
    ],
)
def test_check_refuses_an_include_outside_the_project(
    tmp_path: Path, fixture: str, expected: str
) -> None:
    project = project_with_lock(tmp_path, fixture)
    with no_hang():
        result = runner.invoke(app, ["check", str(project)])
    assert result.exit_code == 2, result.output
    lines = error_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    assert re.match(rf"{re.escape(str(project))}/requirements\.lock:1: error: {expected}", lines[0])
    assert "root:" not in result.output  # /etc/passwd's first line is never echoed
    assert "Traceback" not in result.output


def test_a_link_out_of_the_project_is_not_followed(tmp_path: Path) -> None:
    host = tmp_path / "host-secret.txt"
    host.write_text("root:*:19000:0:99999:7:::\n")
    lock = lock_in(tmp_path, "-r base.txt\n")
    (lock.parent / "base.txt").symlink_to(host)
    with pytest.raises(
        LockError,
        match=r"^\S+requirements\.txt:1: included file base\.txt is a symbolic link that leads "
        r"out of the project folder \S+ \(replace the link by the file itself\)$",
    ):
        read_lock(lock)


def test_a_link_inside_the_project_is_read(tmp_path: Path) -> None:
    lock = lock_in(tmp_path, "-r pins.txt\n")
    (lock.parent / "real").mkdir()
    (lock.parent / "real" / "pins.txt").write_text(f"numpy==2.4.6 --hash=sha256:{H1}\n")
    (lock.parent / "pins.txt").symlink_to(lock.parent / "real" / "pins.txt")
    assert [p.name for p in read_lock(lock).packages] == ["numpy"]


def test_a_project_reached_through_a_link_reads_its_includes(tmp_path: Path) -> None:
    lock = lock_in(tmp_path, "-r sub/pins.txt\n")
    (lock.parent / "sub").mkdir()
    (lock.parent / "sub" / "pins.txt").write_text(
        f"-r ../more.txt\nnumpy==2.4.6 --hash=sha256:{H1}\n"
    )
    (lock.parent / "more.txt").write_text(f"scipy==1.17.1 --hash=sha256:{H1}\n")
    (tmp_path / "link").symlink_to(lock.parent)
    read = read_lock(tmp_path / "link" / "requirements.txt")
    assert [p.name for p in read.packages] == ["scipy", "numpy"]


def test_a_fifo_include_is_refused_without_blocking(tmp_path: Path) -> None:
    lock = lock_in(tmp_path, "-c pipe.txt\n")
    os.mkfifo(lock.parent / "pipe.txt")
    with no_hang(), pytest.raises(LockError, match=r"included file pipe\.txt is a FIFO, not a"):
        read_lock(lock)


def test_a_folder_include_is_refused(tmp_path: Path) -> None:
    lock = lock_in(tmp_path, "-r sub\n")
    (lock.parent / "sub").mkdir()
    with pytest.raises(LockError, match=r"included file sub is a folder, not a regular file"):
        read_lock(lock)


def test_a_device_linked_into_the_project_is_refused(tmp_path: Path) -> None:
    lock = lock_in(tmp_path, "-r zero.txt\n")
    (lock.parent / "zero.txt").symlink_to("/dev/zero")
    with no_hang(), pytest.raises(LockError, match=r"zero\.txt is a symbolic link that leads out"):
        read_lock(lock)


def test_an_oversized_include_is_refused(tmp_path: Path) -> None:
    lock = lock_in(tmp_path, "-r huge.txt\n")
    with (lock.parent / "huge.txt").open("wb") as f:
        f.truncate(MAX_PROJECT_TEXT + 1)  # sparse: no disk used
    with pytest.raises(
        LockError, match=rf"huge\.txt is larger than the limit of {MAX_PROJECT_TEXT} bytes"
    ):
        read_lock(lock)


def test_400_chained_includes_give_one_clear_error(tmp_path: Path) -> None:
    lock = lock_in(tmp_path, "-r r1.txt\n")
    for i in range(1, 400):
        (lock.parent / f"r{i}.txt").write_text(f"-r r{i + 1}.txt\n")
    (lock.parent / "r400.txt").write_text(f"numpy==2.4.6 --hash=sha256:{H1}\n")
    with pytest.raises(
        LockError,
        match=rf"r{MAX_INCLUDE_DEPTH - 1}\.txt:1: includes nest deeper than {MAX_INCLUDE_DEPTH} "
        r"files \(include the files from one place instead of a chain\)$",
    ):
        read_lock(lock)


def test_includes_that_fan_out_are_bounded(tmp_path: Path) -> None:
    """Each file includes the next twice: 2**20 reads without a bound on the count."""
    lock = lock_in(tmp_path, "-r f1.txt\n-r f1.txt\n")
    for i in range(1, 20):
        (lock.parent / f"f{i}.txt").write_text(f"-r f{i + 1}.txt\n-r f{i + 1}.txt\n")
    (lock.parent / "f20.txt").write_text("\n")
    with pytest.raises(LockError, match=rf"more than {MAX_INCLUDED_FILES} files included in all"):
        read_lock(lock)


def test_a_megabyte_line_is_not_echoed_whole(tmp_path: Path) -> None:
    lock = lock_in(tmp_path, "-r bad.txt\n")
    (lock.parent / "bad.txt").write_text("x" * 1_000_000 + " !\n")
    with pytest.raises(LockError) as caught:
        read_lock(lock)
    message = str(caught.value)
    assert "\n" not in message
    assert len(message) < 3 * MAX_ECHO + len(str(lock.parent)) + 200
    assert "(1000002 characters)" in message


def test_control_characters_in_a_lock_line_are_escaped(tmp_path: Path) -> None:
    lock = lock_in(tmp_path, "numpy\x1b[31m ==\x00 1\n")
    with pytest.raises(LockError) as caught:
        read_lock(lock)
    assert "\x1b" not in str(caught.value)
    assert "\x00" not in str(caught.value)
    assert r"\x1b[31m" in str(caught.value)


# --- 2. model artifacts --------------------------------------------------------------------


def test_check_refuses_an_artifact_linked_out_of_the_project(tmp_path: Path) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    host = tmp_path / "host-secret.bin"
    host.write_bytes(b"host file, not a model\n")
    artifact = project / "model" / "iris.joblib"
    artifact.unlink()
    artifact.symlink_to(host)
    result = runner.invoke(app, ["check", str(project)])
    assert result.exit_code == 1, result.output
    assert error_lines(result.stderr) == [
        f"{project}/imagekit.toml: artifacts[0]: error: model artifact model/iris.joblib is a "
        f"symbolic link that leads out of the project folder {project} [artifact-path] "
        "(fix: replace the link by the file itself)"
    ]
    assert hashlib.sha256(host.read_bytes()).hexdigest() not in result.output


def test_build_refuses_an_artifact_linked_out_of_the_project(tmp_path: Path) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    host = tmp_path / "host.joblib"
    shutil.copyfile(project / "model" / "iris.joblib", host)  # the same bytes, the same sha256
    (project / "model" / "iris.joblib").unlink()
    (project / "model" / "iris.joblib").symlink_to(host)
    result = runner.invoke(app, ["build", "--backend", "oci", str(project)])
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "model/iris.joblib is a symbolic link that leads out of the project" in lines[0]


def test_an_artifact_that_is_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    (project / "model" / "iris.joblib").unlink()
    os.mkfifo(project / "model" / "iris.joblib")
    with no_hang():
        findings = run_checks(project).findings
    assert [(f.rule, f.message) for f in findings] == [
        ("artifact-path", "model artifact iris.joblib is a FIFO, not a regular file")
    ]


@pytest.mark.parametrize("dest", ["/", "/opt/model/", "//opt/model.bin", "/opt/./model.bin"])
def test_check_refuses_a_dest_that_names_no_file(tmp_path: Path, dest: str) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    edit_spec(project, 'dest = "/opt/model/iris.joblib"', f'dest = "{dest}"')
    result = runner.invoke(app, ["check", str(project)])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"error: {project}/imagekit.toml: artifacts[0].dest: {dest} does not name a file in "
        'the image (name the file the model is copied to, e.g. "/opt/model/iris.joblib")'
    ]


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('dest = "/opt/model/iris.joblib"', 'dest = "/opt/model/iris\\u0000.joblib"', "dest"),
        ('path = "model/iris.joblib"', 'path = "model/iris.joblib\\u0000"', "path"),
    ],
)
def test_a_nul_in_an_artifact_path_is_refused_at_load(
    tmp_path: Path, old: str, new: str, key: str
) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    edit_spec(project, old, new)
    with pytest.raises(
        InputError, match=rf"imagekit\.toml: artifacts\[0\]\.{key}: .*\\x00.* contains a NUL"
    ):
        load_spec(project)


def test_two_artifacts_with_one_dest_are_refused(tmp_path: Path) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    spec = project / "imagekit.toml"
    text = spec.read_text()
    block = text[text.index("[[artifacts]]") : text.index("[artifacts.card]")]
    spec.write_text(text + "\n" + block.replace('name = "iris-classifier"', 'name = "copy"'))
    with pytest.raises(
        InputError,
        match=r"artifacts\[1\]: dest /opt/model/iris\.joblib is also the dest of iris-classifier",
    ):
        load_spec(project)


# --- 3. application files ------------------------------------------------------------------


def test_a_fifo_among_app_files_is_skipped_with_a_warning(tmp_path: Path) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    os.mkfifo(project / "src" / "pipe")
    with no_hang():
        result = check_project(project)
        files = prepared(result).plan.layer(LayerKind.APP)[0].files
    assert result.ok
    [warning] = [f for f in result.findings if f.rule == "not-a-file"]
    assert warning.severity is Severity.WARNING
    assert (
        warning.message
        == "src/pipe is a FIFO, not a regular file, and is not copied into the image"
    )
    assert "/app/src/pipe" not in [f.dest for f in files]


def test_a_non_utf8_file_name_is_one_clear_error(tmp_path: Path) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    (project / "src" / os.fsdecode(b"caf\xe9.py")).write_bytes(b"x = 1\n")
    result = runner.invoke(app, ["check", str(project)])
    assert result.exit_code == 1, result.output
    assert error_lines(result.stderr) == [
        f"{project}/imagekit.toml: app: error: the file name src/caf\\udce9.py in {project} is "
        "not UTF-8 [file-name] (fix: rename the file, or exclude it in [app] exclude)"
    ]


def test_a_non_utf8_name_that_is_excluded_is_fine(tmp_path: Path) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    (project / "src" / os.fsdecode(b"caf\xe9.py")).write_bytes(b"x = 1\n")
    edit_spec(
        project, 'exclude = ["**/__pycache__/**"]', 'exclude = ["**/__pycache__/**", "src/caf*"]'
    )
    assert run_checks(project).ok


def test_app_links_are_not_followed(tmp_path: Path) -> None:
    (tmp_path / "host.txt").write_text("host\n")
    root = tmp_path / "model"
    root.mkdir()
    (root / "main.py").write_text("print(1)\n")
    (root / "leak.txt").symlink_to(tmp_path / "host.txt")
    (root / "leakdir").symlink_to(tmp_path)
    assert select_files(root, (), (), frozenset()).files == (PurePosixPath("main.py"),)


def test_a_deep_app_tree_is_one_error_not_a_recursion(tmp_path: Path) -> None:
    root = tmp_path / "model"
    deep = root
    for _ in range(80):
        deep /= "d"
    deep.mkdir(parents=True)
    with pytest.raises(InputError, match=r"folders nest deeper than 64 levels"):
        select_files(root, (), (), frozenset())


# --- 4. credential files -------------------------------------------------------------------

CREDENTIALS = [
    ".docker/config.json",
    ".git-credentials",
    ".kube/config",
    "kubeconfig",
    ".npmrc",
    ".pypirc",
    ".netrc",
    ".pgpass",
    ".my.cnf",
    ".env",
    ".env.production",
    "id_dsa",
    "id_rsa",
    "id_ed25519",
    "SERVER.KEY",
    "tls/Server.Pem",
    "client.p12",
    "gcp-sa.json",
    "credentials.json",
    "application_default_credentials.json",
    ".aws/credentials",
    ".azure/accessTokens.json",
    ".ssh/id_ecdsa",
    "terraform.tfstate",
    ".vault-token",
]
NOT_CREDENTIALS = [".gitconfig", "id_rsa.pub", "keys.py", "credentials_helper.py", "config.json"]


@pytest.mark.parametrize("name", CREDENTIALS)
def test_credential_files_are_withheld_with_a_warning(tmp_path: Path, name: str) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    secret = project / "src" / name
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text("token\n")
    result = check_project(project)
    assert result.ok
    [warning] = [f for f in result.findings if f.rule == "secret-withheld"]
    assert warning.location.file == secret
    assert (
        warning.message
        == f"src/{name} looks like a credential file and is not copied into the image"
    )
    assert (
        warning.fix
        == f'if the image really needs it, name it exactly in [app] include: "src/{name}"'
    )
    dests = [f.dest for f in prepared(result).plan.layer(LayerKind.APP)[0].files]
    assert f"/app/src/{name}" not in dests


@pytest.mark.parametrize("name", NOT_CREDENTIALS)
def test_ordinary_files_are_not_taken_for_credentials(name: str) -> None:
    assert not is_credential(PurePosixPath("src") / name)


@pytest.mark.parametrize(
    ("path", "patterns", "expected"),
    [
        ("data/x/y.csv", ("data",), True),  # a pattern takes the folders below it
        ("data/x/y.csv", ("data/",), True),
        ("data/x/y.csv", ("*.csv",), False),  # `*` stays within one segment
        ("data/x/y.csv", ("**/*.csv",), True),
        ("data/x/y.csv", ("*.txt", "data/*/y.csv"), True),  # any pattern of the set
        ("database/y.csv", ("data",), False),  # a folder is a whole segment
        ("data/x/y.csv", (), False),
    ],
)
def test_a_path_matches_a_set_of_patterns(
    path: str, patterns: tuple[str, ...], expected: bool
) -> None:
    assert matches(PurePosixPath(path), patterns) is expected


def test_credential_names_match_without_regard_to_case() -> None:
    assert is_credential(PurePosixPath("src/.AWS/Credentials"))
    assert not matches(PurePosixPath("src/.AWS/Credentials"), CREDENTIAL_PATTERNS)


def test_a_credential_named_exactly_is_copied_with_a_warning(tmp_path: Path) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    (project / "src" / ".npmrc").write_text("//registry.npmjs.org/:_authToken=x\n")
    edit_spec(
        project,
        'include = ["src/**", "reference/**"]',
        'include = ["src/**", "reference/**", "src/.npmrc"]',
    )
    result = check_project(project)
    assert [(f.rule, f.message) for f in result.findings] == [
        (
            "secret-included",
            "src/.npmrc looks like a credential file and is copied into the image because "
            "[app] include names it",
        )
    ]
    assert "/app/src/.npmrc" in [
        f.dest for f in prepared(result).plan.layer(LayerKind.APP)[0].files
    ]


def test_credential_patterns_are_written_in_lower_case() -> None:
    """Matching ignores case; a pattern with capitals would read as if it did not."""
    assert all(p == p.lower() for p in CREDENTIAL_PATTERNS)


# --- 5. verify --record --------------------------------------------------------------------


@pytest.fixture
def verify_spec() -> VerifySpec:
    spec = load_spec(EXAMPLE).verify
    assert spec is not None
    return spec


def test_record_does_not_follow_an_output_link(tmp_path: Path, verify_spec: VerifySpec) -> None:
    host = tmp_path / "host.npy"
    np.save(host, np.zeros(3))  # a valid output, so only the link itself can refuse it
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    (outputs / "probabilities.npy").symlink_to(host)
    golden = tmp_path / "golden"
    with pytest.raises(
        GoldenError,
        match=r"^\S+/outputs/probabilities\.npy: the output is a symbolic link, not a regular "
        r"file; nothing recorded \(make the verify command write the output itself",
    ):
        write_golden(golden, verify_spec, outputs, image="x:1", image_id="sha256:" + H1)
    assert not golden.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".golden")]


def test_record_refuses_a_fifo_output_without_blocking(
    tmp_path: Path, verify_spec: VerifySpec
) -> None:
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    os.mkfifo(outputs / "probabilities.npy")
    with no_hang(), pytest.raises(GoldenError, match=r"the output is a FIFO, not a regular file"):
        write_golden(
            tmp_path / "golden", verify_spec, outputs, image="x:1", image_id="sha256:" + H1
        )


# --- 6. pylock.toml without [[packages]] ----------------------------------------------------


def test_pylock_without_packages_is_refused(tmp_path: Path) -> None:
    project = project_with_lock(tmp_path, "no-packages.pylock.toml", "pylock.toml")
    result = runner.invoke(app, ["check", str(project)])
    assert result.exit_code == 2, result.output
    assert error_lines(result.stderr) == [
        f"{project}/pylock.toml: packages: error: required key is missing (PEP 751: a "
        "pylock.toml lists its entries as [[packages]]) [input] (fix: regenerate the lock; an "
        "environment with nothing to install has `packages = []`)"
    ]


def test_pylock_with_package_instead_of_packages_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pylock.toml"
    shutil.copyfile(HOSTILE / "package-instead-of-packages.pylock.toml", path)
    with pytest.raises(
        LockError,
        match=r"pylock\.toml:4: package: pylock\.toml names its entries \[\[packages\]\], not "
        r"\[\[package\]\] \(rename \[\[package\]\] to \[\[packages\]\] or regenerate the lock\)$",
    ):
        read_lock(path)


# --- 7. the lockfile itself and the spec ---------------------------------------------------


def test_a_fifo_lockfile_is_refused_without_blocking(tmp_path: Path) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    (project / "requirements.lock").unlink()
    os.mkfifo(project / "requirements.lock")
    with no_hang():
        result = runner.invoke(app, ["check", str(project)])
    assert result.exit_code == 2, result.output
    assert error_lines(result.stderr) == [
        f"{project}/requirements.lock: error: lockfile requirements.lock is a FIFO, not a "
        "regular file [input] (fix: name a regular file)"
    ]


def test_a_lockfile_linked_out_of_the_project_is_not_read(tmp_path: Path) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    host = tmp_path / "shadow"
    host.write_text("root:*:19000:0:99999:7:::\n")
    (project / "requirements.lock").unlink()
    (project / "requirements.lock").symlink_to(host)
    result = runner.invoke(app, ["check", str(project)])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"error: {project}/imagekit.toml: lockfile: lockfile requirements.lock is a symbolic "
        f"link that leads out of the project folder {project} (replace the link by the file "
        "itself)"
    ]
    assert "root:" not in result.output


def test_deep_toml_in_a_spec_is_one_error(tmp_path: Path) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    spec = project / "imagekit.toml"
    spec.write_text(spec.read_text() + "deep = " + "[" * 5000 + "]" * 5000 + "\n")
    result = runner.invoke(app, ["check", str(project)])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"error: {spec}: TOML nested deeper than 64 levels (this is not a real file of its "
        "kind; check where it came from)"
    ]
