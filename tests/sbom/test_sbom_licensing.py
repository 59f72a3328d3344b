"""What a package declares, as CycloneDX licences: SPDX stays SPDX, names stay names."""

from __future__ import annotations

import pytest
from _inventories import BSD, dist

from imagekit.inventory.licences import (
    CLASSIFIERS,
    DeclaredLicense,
    declared_by_dist,
    declared_by_texts,
    spdx,
)
from imagekit.sbom.licensing import to_cyclonedx


@pytest.mark.parametrize(
    ("expression", "texts", "expected"),
    [
        # PEP 639 wins over everything else, canonicalised
        ("bsd-3-clause", ("License :: OSI Approved :: MIT License",), (("BSD-3-Clause",), ())),
        # an SPDX License field; the vague classifier only restates it
        (None, ("BSD-3-Clause", BSD), (("BSD-3-Clause",), ())),
        # a mapped classifier beats a loose name
        (None, ("MIT License", "License :: OSI Approved :: MIT License"), (("MIT",), ())),
        # a name that is not SPDX stays a name; the classifier adds nothing
        (None, ("BSD 3-Clause", BSD), ((), ("BSD 3-Clause",))),
        # only a classifier: its last part as a name
        (None, ("Copyright (c) 2005-2025, NumPy Developers.", BSD), ((), ("BSD License",))),
        # an invalid License-Expression is kept, as a name
        ("BSD-3-Clause-ish", (), ((), ("BSD-3-Clause-ish",))),
        (None, ("UNKNOWN",), ((), ())),
    ],
)
def test_declared_by_dist(
    expression: str | None,
    texts: tuple[str, ...],
    expected: tuple[tuple[str, ...], tuple[str, ...]],
) -> None:
    declared = declared_by_dist(dist("x", "1", expression=expression, texts=texts))
    assert (declared.expressions, declared.names) == expected


def test_copyright_line_is_not_a_licence() -> None:
    declared = declared_by_dist(
        dist("numpy", "2.3.5", texts=("Copyright (c) 2005-2025, NumPy Developers.", BSD))
    )
    assert declared.copyright == "Copyright (c) 2005-2025, NumPy Developers."


def test_every_mapped_classifier_is_a_known_spdx_id() -> None:
    for classifier, licence in CLASSIFIERS.items():
        assert spdx(licence) == licence, classifier


def test_declared_by_texts() -> None:
    declared = declared_by_texts(["GPL-2+", "lgpl-2.1-or-later", " ", "public-domain"])
    assert declared == DeclaredLicense(
        expressions=("LGPL-2.1-or-later",), names=("GPL-2+", "public-domain")
    )


def test_to_cyclonedx_one_id_one_expression_or_a_list() -> None:
    one = to_cyclonedx(DeclaredLicense(expressions=("MIT",), names=()))
    assert [(x.id, x.name) for x in one] == [("MIT", None)]  # type: ignore[union-attr]
    expr = to_cyclonedx(DeclaredLicense(expressions=("MIT OR Apache-2.0",), names=()))
    assert [x.value for x in expr] == ["MIT OR Apache-2.0"]  # type: ignore[union-attr]
    ref = to_cyclonedx(DeclaredLicense(expressions=("LicenseRef-NVIDIA",), names=()))
    assert [x.value for x in ref] == ["LicenseRef-NVIDIA"]  # type: ignore[union-attr]
    # an expression cannot sit beside licences in CycloneDX: it becomes a name there
    many = to_cyclonedx(DeclaredLicense(expressions=("MIT", "Zlib OR 0BSD"), names=("Custom",)))
    assert [(x.id, x.name) for x in many] == [  # type: ignore[union-attr]
        ("MIT", None),
        (None, "Zlib OR 0BSD"),
        (None, "Custom"),
    ]
    assert to_cyclonedx(DeclaredLicense(expressions=(), names=())) == []
