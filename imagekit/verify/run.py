"""Verification end to end: check the inputs, run the command in each image, compare.

Everything that can be refused is refused before the first container starts: no [verify]
table, an input whose sha256 differs from the spec's, a parquet output without pyarrow, an
image the daemon does not have, a golden that does not match its manifest.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import docker

from imagekit.errors import InputError
from imagekit.image.digest import sha256_file
from imagekit.verify.compare import Field, compare_field
from imagekit.verify.container import (
    INPUTS_MOUNT,
    OUTPUTS_MOUNT,
    Limits,
    image_id,
    output_folder,
    run_command,
)
from imagekit.verify.golden import GoldenManifest, load_golden, write_golden
from imagekit.verify.readers import OutputReadError, parquet_available, read_output
from imagekit.verify.results import (
    ImageRun,
    OutputComparison,
    RunStatus,
    VerifyError,
    VerifyReport,
)
from imagekit.verify.spec import OutputFormat, VerifyOutput, VerifySpec

if (
    TYPE_CHECKING
):  # imagekit.project.spec imports imagekit.verify.spec; only the type is needed here
    from imagekit.project.spec import ModelSpec

_INPUTS = "inputs"  # the staged inputs' folder in a run's temporary folder
DiffHook = Callable[[str, str], str | None]
"""(baseline, candidate) -> a Markdown `imagekit diff` of the two images, or None."""


def verify_spec_of(spec: ModelSpec) -> VerifySpec:
    """The spec's [verify] table, checked for what this machine can compare.

    Raises `VerifyError` when there is none, or when an output needs pyarrow and it is absent.
    """
    verify = spec.verify
    if verify is None:
        raise VerifyError(
            f"{spec.file}: no [verify] table: add one with the command, its reference inputs "
            "and the outputs to compare (see examples/iris/imagekit.toml)"
        )
    for output in verify.outputs:
        if output.format is OutputFormat.PARQUET and not parquet_available():
            raise VerifyError(
                f"{output.location}: comparing parquet outputs needs pyarrow: pip install pyarrow"
            )
    return verify


def stage_inputs(verify: VerifySpec, root: Path, folder: Path) -> None:
    """Copy the reference inputs into `folder`, each checked against the spec's sha256.

    Raises `InputError` naming the spec entry for a missing file or a hash mismatch.
    """
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)  # readable by the image's non-root user
    for item in verify.inputs:
        source = root / item.path
        if not source.is_file():
            raise InputError(
                item.location,
                f"reference input {item.path} not found",
                "restore it, or correct the path in [[verify.inputs]]",
            )
        copy = folder / item.name
        shutil.copyfile(source, copy)
        copy.chmod(0o644)
        actual = sha256_file(copy)
        if actual != item.sha256:
            raise InputError(
                item.location,
                f"{item.path}: sha256 is {actual}, the spec says {item.sha256}",
                "restore the reference input, or update sha256 if the change is intended",
            )


def verify_images(
    spec: ModelSpec,
    *,
    baseline: str,
    candidate: str,
    client: docker.DockerClient,
    limits: Limits | None = None,
    diff: DiffHook | None = None,
) -> VerifyReport:
    """Run the verify command in both images on the same inputs and compare the outputs.

    Raises `InputError` (inputs) or `VerifyError` (no [verify], missing image, daemon refusal)
    before any container runs; a failing run or differing outputs are in the report.
    """
    verify = verify_spec_of(spec)
    with tempfile.TemporaryDirectory(prefix="imagekit-verify-") as name:
        tmp = Path(name)
        stage_inputs(verify, spec.root, tmp / _INPUTS)
        for image in (baseline, candidate):
            image_id(client, image)
        base_run, base = _run(client, verify, "baseline", baseline, tmp, limits=limits)
        cand_run, cand = _run(client, verify, "candidate", candidate, tmp, limits=limits)
        outputs = _compare_all(verify, base_run, base, cand_run, cand)
    return _report(spec, verify, baseline=base_run, candidate=cand_run, outputs=outputs, diff=diff)


def verify_against_golden(
    spec: ModelSpec,
    *,
    candidate: str,
    golden: Path,
    client: docker.DockerClient,
    limits: Limits | None = None,
    diff: DiffHook | None = None,
) -> VerifyReport:
    """Run the verify command in `candidate` and compare with the golden outputs.

    Raises `GoldenError` for a golden that does not match its manifest or the spec, and
    what `verify_images` raises.
    """
    verify = verify_spec_of(spec)
    manifest = load_golden(golden, verify)
    with tempfile.TemporaryDirectory(prefix="imagekit-verify-") as name:
        tmp = Path(name)
        stage_inputs(verify, spec.root, tmp / _INPUTS)
        image_id(client, candidate)
        run, folder = _run(client, verify, "candidate", candidate, tmp, limits=limits)
        stand_in = ImageRun(
            role="golden", image=manifest.image, image_id=manifest.image_id, status=RunStatus.OK
        )
        outputs = _compare_all(verify, stand_in, golden, run, folder)
    return _report(spec, verify, baseline=stand_in, candidate=run, outputs=outputs, diff=diff)


def record_golden(
    spec: ModelSpec,
    *,
    candidate: str,
    golden: Path,
    client: docker.DockerClient,
    limits: Limits | None = None,
) -> GoldenManifest:
    """Run the verify command in `candidate` and keep its outputs as the golden.

    Raises `VerifyError` when the run fails or an output is missing or unreadable; the
    previous golden, if any, is then left as it was.
    """
    verify = verify_spec_of(spec)
    with tempfile.TemporaryDirectory(prefix="imagekit-verify-") as name:
        tmp = Path(name)
        stage_inputs(verify, spec.root, tmp / _INPUTS)
        run, folder = _run(client, verify, "candidate", candidate, tmp, limits=limits)
        if not run.ok:
            tail = f": {run.log_tail[-1]}" if run.log_tail else ""
            raise VerifyError(f"{candidate}: the verify command {run.describe()}{tail}")
        for output in verify.outputs:
            try:
                _read(output, folder, "candidate", candidate)
            except _Missing as e:
                raise VerifyError(f"{e}; nothing recorded") from None
        return write_golden(golden, verify, folder, image=candidate, image_id=run.image_id)


def _run(
    client: docker.DockerClient,
    verify: VerifySpec,
    role: str,
    image: str,
    tmp: Path,
    *,
    limits: Limits | None,
) -> tuple[ImageRun, Path]:
    """Run the command in `image` on the inputs staged in `tmp`; its run and output folder."""
    outputs = output_folder(tmp)
    run = run_command(
        client,
        role=role,
        image=image,
        argv=verify.argv(INPUTS_MOUNT, OUTPUTS_MOUNT),
        env=verify.env,
        inputs=tmp / _INPUTS,
        outputs=outputs,
        limits=limits or Limits(),
    )
    return run, outputs


class _Missing(Exception):
    """An output is missing or unreadable on one side; the text says which and why."""


def _read(output: VerifyOutput, folder: Path, role: str, image: str) -> tuple[Field, ...]:
    path = folder / output.name
    if not path.is_file():
        raise _Missing(f"{output.name} was not written by the {role} ({image})")
    try:
        return read_output(path, output.format)
    except OutputReadError as e:
        message = str(e).removeprefix(f"{path}: ")
        raise _Missing(f"{output.name} of the {role} ({image}): {message}") from e


def _compare_all(
    verify: VerifySpec, base_run: ImageRun, base: Path, cand_run: ImageRun, cand: Path
) -> tuple[OutputComparison, ...]:
    if not (base_run.ok and cand_run.ok):
        return ()  # the failed run is the finding; its outputs may be half-written
    return tuple(_compare(o, base_run, base, cand_run, cand) for o in verify.outputs)


def _compare(
    output: VerifyOutput, base_run: ImageRun, base: Path, cand_run: ImageRun, cand: Path
) -> OutputComparison:
    def problem(text: str) -> OutputComparison:
        return OutputComparison(
            name=output.name, format=output.format, tolerance=output.tolerance, problem=text
        )

    try:
        a = {f.name: f for f in _read(output, base, base_run.role, base_run.image)}
        b = {f.name: f for f in _read(output, cand, cand_run.role, cand_run.image)}
    except _Missing as e:
        return problem(str(e))
    if a.keys() != b.keys():
        only = sorted(a.keys() - b.keys()) or sorted(b.keys() - a.keys())
        side = "baseline" if only[0] in a else "candidate"
        return problem(f"field {only[0]!r} is in the {side} only")
    fields = tuple(compare_field(a[k], b[k], output.tolerance) for k in sorted(a))
    return OutputComparison(
        name=output.name, format=output.format, tolerance=output.tolerance, fields=fields
    )


def _report(
    spec: ModelSpec,
    verify: VerifySpec,
    *,
    baseline: ImageRun,
    candidate: ImageRun,
    outputs: tuple[OutputComparison, ...],
    diff: DiffHook | None,
) -> VerifyReport:
    return VerifyReport(
        project=str(spec.root),
        command=verify.command,
        env=verify.env,
        inputs=verify.inputs,
        baseline=baseline,
        candidate=candidate,
        outputs=outputs,
        # A golden's image may have been retagged since: name it by its ID.
        diff=diff(
            baseline.image_id if baseline.role == "golden" else baseline.image, candidate.image
        )
        if diff
        else None,
    )
