"""`imagekit verify`: run a model's [verify] command in two images (or one, against its golden
outputs) on the same hashed inputs, and compare the outputs element by element.

`verify_images`, `verify_against_golden` and `record_golden` take a loaded `ModelSpec`;
`compare_field` and `read_output` work on their own.

`imagekit.project.spec` imports `imagekit.verify.spec`, so nothing imported here may import
`imagekit.project.spec` (or checks, plan, inventory, diff, which do) at module level: the diff hook
lives in `imagekit.verify.hooks`, imported by its callers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagekit.lazy import lazy_exports

if TYPE_CHECKING:
    from imagekit.verify.compare import Element, Field, FieldComparison, compare_field, ulp_distance
    from imagekit.verify.container import LABEL, ImageNotFoundError, Limits
    from imagekit.verify.golden import DEFAULT_GOLDEN, GoldenError, GoldenManifest
    from imagekit.verify.readers import OutputReadError, read_output
    from imagekit.verify.report import render_markdown, render_text, write_markdown
    from imagekit.verify.results import (
        ImageRun,
        OutputComparison,
        RunStatus,
        VerifyError,
        VerifyReport,
    )
    from imagekit.verify.run import (
        DiffHook,
        record_golden,
        stage_inputs,
        verify_against_golden,
        verify_images,
        verify_spec_of,
    )
    from imagekit.verify.spec import (
        DEFAULT_ENV,
        OutputFormat,
        Tolerance,
        VerifyInput,
        VerifyOutput,
        VerifySpec,
        parse_verify,
    )

__all__ = [
    "DEFAULT_ENV",
    "DEFAULT_GOLDEN",
    "LABEL",
    "DiffHook",
    "Element",
    "Field",
    "FieldComparison",
    "GoldenError",
    "GoldenManifest",
    "ImageNotFoundError",
    "ImageRun",
    "Limits",
    "OutputComparison",
    "OutputFormat",
    "OutputReadError",
    "RunStatus",
    "Tolerance",
    "VerifyError",
    "VerifyInput",
    "VerifyOutput",
    "VerifyReport",
    "VerifySpec",
    "compare_field",
    "parse_verify",
    "read_output",
    "record_golden",
    "render_markdown",
    "render_text",
    "stage_inputs",
    "ulp_distance",
    "verify_against_golden",
    "verify_images",
    "verify_spec_of",
    "write_markdown",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "compare": (
            "Element",
            "Field",
            "FieldComparison",
            "compare_field",
            "ulp_distance",
        ),
        "container": (
            "LABEL",
            "ImageNotFoundError",
            "Limits",
        ),
        "golden": (
            "DEFAULT_GOLDEN",
            "GoldenError",
            "GoldenManifest",
        ),
        "readers": (
            "OutputReadError",
            "read_output",
        ),
        "report": (
            "render_markdown",
            "render_text",
            "write_markdown",
        ),
        "results": (
            "ImageRun",
            "OutputComparison",
            "RunStatus",
            "VerifyError",
            "VerifyReport",
        ),
        "run": (
            "DiffHook",
            "record_golden",
            "stage_inputs",
            "verify_against_golden",
            "verify_images",
            "verify_spec_of",
        ),
        "spec": (
            "DEFAULT_ENV",
            "OutputFormat",
            "Tolerance",
            "VerifyInput",
            "VerifyOutput",
            "VerifySpec",
            "parse_verify",
        ),
    },
)
