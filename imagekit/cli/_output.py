"""Shared CLI rendering: findings and errors to stderr, one line each."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from functools import wraps
from typing import ParamSpec, TypeVar

import typer

from imagekit.errors import Finding, FindingsError, ImagekitError, Severity

P = ParamSpec("P")
R = TypeVar("R")


def err(text: str) -> None:
    typer.echo(text, err=True)


def print_findings(findings: Iterable[Finding]) -> None:
    for finding in findings:
        err(
            f"{finding.location}: {finding.severity.value}: {finding.message} "
            f"[{finding.rule}] (fix: {finding.fix})"
        )


def findings_json(findings: Iterable[Finding]) -> str:
    found = list(findings)
    errors = sum(1 for f in found if f.severity is Severity.ERROR)
    return json.dumps(
        {"ok": errors == 0, "errors": errors, "findings": [f.to_dict() for f in found]}, indent=2
    )


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Map imagekit's errors to a one-line message and the error's exit code."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except FindingsError as e:
            print_findings(e.findings)
            raise typer.Exit(e.exit_code) from None
        except ImagekitError as e:
            err(f"error: {e}")
            raise typer.Exit(e.exit_code) from None
        except KeyboardInterrupt:
            err("interrupted")
            raise typer.Exit(130) from None

    return wrapper
