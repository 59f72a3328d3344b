"""A `VerifyReport` as terminal text or Markdown (its JSON form is `report.to_dict()`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from imagekit.verify.compare import Element, FieldComparison
from imagekit.verify.results import ImageRun, OutputComparison, VerifyReport

DIFF_MISSING = "`imagekit diff` is not available in this build; no image diff."


def verdict(report: VerifyReport) -> str:
    return "PASS" if report.ok else "FAIL"


def render_text(report: VerifyReport) -> str:
    """A few lines for the terminal: the verdict, each output, the worst elements."""
    lines = [f"{verdict(report)}: {report.candidate.image} against {_baseline(report)}"]
    lines += [f"  {run.role} {run.image}: {run.describe()}" for run in _runs(report)]
    for run in _runs(report):
        if not run.ok:
            lines += [f"    | {line}" for line in run.log_tail[-5:]]
    for output in report.outputs:
        lines += list(_output_text(output))
    return "\n".join(lines) + "\n"


def _baseline(report: VerifyReport) -> str:
    b = report.baseline
    return f"golden outputs of {b.image}" if b.role == "golden" else b.image


def _runs(report: VerifyReport) -> tuple[ImageRun, ...]:
    runs = (report.baseline, report.candidate)
    return tuple(r for r in runs if r.role != "golden")


def _output_text(output: OutputComparison) -> Iterator[str]:
    mark = "ok  " if output.ok else "FAIL"
    if output.problem:
        yield f"  {mark} {output.name}: {output.problem}"
        return
    for f in output.fields:
        name = output.name + (f"[{f.field}]" if f.field else "")
        yield f"  {'ok  ' if f.ok else 'FAIL'} {name}: {_summary(f)}"
        if not f.ok:
            yield from (f"         {_element_text(e)}" for e in f.worst if e.outside)


def _summary(f: FieldComparison) -> str:
    if f.problem:
        return f.problem
    figures = [f"{f.outside}/{f.count} outside"]
    if f.max_abs_error is not None:
        figures.append(f"max abs {f.max_abs_error:.3g}")
    if f.max_rel_error is not None:
        figures.append(f"max rel {f.max_rel_error:.3g}")
    if f.max_ulp is not None:
        figures.append(f"max {f.max_ulp} ULP")
    if f.nan_mismatches:
        figures.append(f"{f.nan_mismatches} NaN mismatches")
    return ", ".join(figures)


def _element_text(e: Element) -> str:
    error = "" if e.abs_error is None else f"  abs {e.abs_error:.3g}"
    ulp = "" if e.ulp is None else f"  {e.ulp} ULP"
    return f"{e.where}: {e.baseline} -> {e.candidate}{error}{ulp}"


def render_markdown(
    report: VerifyReport, *, title: str = "imagekit verify", level: int = 1, with_diff: bool = True
) -> str:
    """The full report: runs, inputs, each output with its worst elements, the image diff.
    `level` is the depth of its title, for a report inside another."""
    h = "#" * level
    parts = [
        f"{h} {title}: {verdict(report)}\n",
        _header(report),
        f"{h}# Outputs\n",
        _outputs_table(report),
        *(_output_details(o, f"{h}##") for o in report.outputs if not o.ok),
    ]
    if with_diff:
        parts += [f"{h}# Image diff\n", (report.diff or DIFF_MISSING).rstrip() + "\n"]
    return "\n".join(parts)


def write_markdown(report: VerifyReport, path: Path) -> None:
    """Write the full Markdown report (`render_markdown`) to `path`."""
    path.write_text(render_markdown(report), encoding="utf-8")


def _header(report: VerifyReport) -> str:
    lines = [f"- project: `{report.project}`"]
    for run in (report.baseline, report.candidate):
        state = "golden outputs" if run.role == "golden" else run.describe()
        lines.append(f"- {run.role}: `{run.image}` (`{run.image_id}`), {state}")
    lines.append(f"- command: `{' '.join(report.command)}`")
    lines += [f"- input `{i.path}`: sha256 `{i.sha256}`" for i in report.inputs]
    env = ", ".join(f"`{k}={v}`" for k, v in sorted(report.env.items()))
    lines.append(f"- environment: {env}")
    lines += [f"- note: {n}" for n in report.notes]
    out = "\n".join(lines) + "\n"
    for run in _runs(report):
        if not run.ok and run.log_tail:
            out += f"\nLast lines of the {run.role}'s output:\n\n```\n"
            out += "\n".join(run.log_tail) + "\n```\n"
    return out


def _outputs_table(report: VerifyReport) -> str:
    if not report.outputs:
        return "Nothing compared: a run did not succeed.\n"
    rows = [
        "| output | verdict | shape | dtype | outside | max abs | max rel | max ULP | tolerance |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for output in report.outputs:
        if output.problem:
            rows.append(
                f"| {output.name} | FAIL: {_cell(output.problem)} | | | | | | | "
                f"{output.tolerance.describe()} |"
            )
        rows += [_field_row(output, f) for f in output.fields]
    return "\n".join(rows) + "\n"


def _field_row(output: OutputComparison, f: FieldComparison) -> str:
    name = output.name + (f"[{f.field}]" if f.field else "")
    state = "pass" if f.ok else "FAIL" + (f": {_cell(f.problem)}" if f.problem else "")
    shape = "x".join(str(n) for n in f.shape) if f.shape else "scalar"
    cells = [
        name,
        state,
        shape if not f.problem else "",
        f.dtype,
        f"{f.outside}/{f.count} ({f.fraction_outside:.1%})" if not f.problem else "",
        _g(f.max_abs_error),
        _g(f.max_rel_error),
        "" if f.max_ulp is None else str(f.max_ulp),
        output.tolerance.describe(),
    ]
    return "| " + " | ".join(cells) + " |"


def _output_details(output: OutputComparison, heading: str) -> str:
    lines = [f"{heading} {output.name}: FAIL\n"]
    if output.problem:
        lines.append(output.problem + "\n")
    for f in output.fields:
        if f.ok or not f.worst:
            continue
        label = f"field `{f.field}`, " if f.field else ""
        lines.append(f"Worst elements ({label}baseline first):\n")
        lines.append("| where | baseline | candidate | abs error | rel error | ULP |")
        lines.append("|---|---|---|---|---|---|")
        lines += [
            f"| `{e.where}` | {_cell(e.baseline)} | {_cell(e.candidate)} | {_g(e.abs_error)} "
            f"| {_g(e.rel_error)} | {'' if e.ulp is None else e.ulp} |"
            for e in f.worst
        ]
        lines.append("")
    return "\n".join(lines) + "\n"


def _g(value: float | None) -> str:
    return "" if value is None else f"{value:.3g}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
