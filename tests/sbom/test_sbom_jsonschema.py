"""The SBOM schemas' IRI checks through the stand-in for rfc3987_syntax (`sbom._jsonschema`):
the same answers as the package, the same verdicts on an SBOM, and the package itself
untouched for whoever imports it afterwards."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
import rfc3987_syntax

from imagekit.sbom._jsonschema import _grammar_path, stand_in

SAMPLES = [
    "https://example.com/a?b=c#d",
    "http://exa mple.com/",
    "https://例え.jp/パス",
    "mailto:someone@example.com",
    "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
    "relative/path?q",
    "//host:8080/x",
    "http://[::1]:80/",
    "http://[::1",
    "https://example.com/<script>",
    "pkg:pypi/requests@2.32.3",
    "",
    "%zz",
    "http://host/%41%42",
    "a\nb",
]


@pytest.mark.parametrize("term", ["iri", "iri_reference", "absolute_iri"])
def test_the_stand_in_answers_as_the_package(term: str) -> None:
    grammar = _grammar_path()
    assert grammar is not None
    ours = stand_in(grammar)
    for value in SAMPLES:
        assert ours.is_valid_syntax(term, value) is rfc3987_syntax.is_valid_syntax(term, value), (
            term,
            value,
        )


def test_an_sbom_with_a_bad_url_still_fails_its_schema_and_the_package_is_left_alone() -> None:
    # A fresh interpreter: jsonschema is imported once per process.
    script = textwrap.dedent(
        """
        import json, sys
        from cyclonedx.schema import OutputFormat, SchemaVersion
        from cyclonedx.validation import make_schemabased_validator
        from imagekit.sbom._jsonschema import import_jsonschema

        import_jsonschema()
        assert "rfc3987_syntax" not in sys.modules, "the stand-in stayed behind"
        validator = make_schemabased_validator(OutputFormat.JSON, SchemaVersion.V1_6)
        ref = {"type": "website", "url": sys.argv[1]}
        doc = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
               "components": [{"type": "library", "name": "x", "externalReferences": [ref]}]}
        error = validator.validate_str(json.dumps(doc))
        import rfc3987_syntax
        print(json.dumps({"error": None if error is None else str(error.data.message),
                          "real": hasattr(rfc3987_syntax, "is_valid_syntax_ihost")}))
        """
    )

    def verdict(url: str) -> dict[str, object]:
        done = subprocess.run(
            [sys.executable, "-c", script, url], capture_output=True, text=True, check=True
        )
        result: dict[str, object] = json.loads(done.stdout)
        return result

    bad = verdict("http://exa mple.com/<>")
    assert bad["error"] == "'http://exa mple.com/<>' is not valid under any of the given schemas"
    assert bad["real"] is True
    assert verdict("https://example.com/a?b=c#d") == {"error": None, "real": True}
