"""Shared test data for imagekit.vulns: the real OSV fixtures, and installations built by hand
with real package versions those advisories affect."""

from __future__ import annotations

import shutil
from pathlib import Path

from packaging.utils import canonicalize_name

from imagekit.inventory.model import DebPackage, ImageInfo, Inventory, OsRelease, PythonDist
from imagekit.vulns import Component, OsvRecord, Package

DATA = Path(__file__).resolve().parents[1] / "data" / "osv"
RECORDS = DATA / "records"
MALFORMED = DATA / "malformed"
SITE = "/opt/venv/lib/python3.11/site-packages"
BOOKWORM = OsRelease(
    id="debian", version_id="12", codename="bookworm", pretty_name="Debian GNU/Linux 12 (bookworm)"
)


def record(vuln_id: str) -> OsvRecord:
    path = RECORDS / f"{vuln_id}.json"
    return OsvRecord.from_json(path.read_bytes(), origin=str(path))


def pypi(name: str, version: str) -> Package:
    purl = f"pkg:pypi/{canonicalize_name(name)}@{version}"
    component = Component(name=name, version=version, purl=purl, bom_ref=purl)
    return Package(
        ecosystem="PyPI", name=canonicalize_name(name), version=version, components=(component,)
    )


def export_copy(tmp_path: Path, *ids: str) -> Path:
    """A directory export holding some of the fixture records."""
    out = tmp_path / "osv"
    out.mkdir(exist_ok=True)
    for vuln_id in ids:
        shutil.copy(RECORDS / f"{vuln_id}.json", out)
    return out


def deb(name: str, version: str, source: str | None = None) -> DebPackage:
    return DebPackage(
        name=name,
        version=version,
        architecture="amd64",
        source_name=source or name,
        source_version=version,
        depends=(),
        licenses=(),
        copyright_file=None,
    )


def dist(raw_name: str, version: str) -> PythonDist:
    name = canonicalize_name(raw_name)
    return PythonDist(
        name=name,
        raw_name=raw_name,
        version=version,
        site_packages=SITE,
        metadata_path=f"{SITE}/{name}-{version}.dist-info",
        license_expression=None,
        license_texts=(),
        requires_dist=(),
        record=(),
        direct_url=None,
        installer="pip",
    )


def inventory(
    python: tuple[PythonDist, ...] = (),
    debs: tuple[DebPackage, ...] = (),
    release: OsRelease | None = BOOKWORM,
) -> Inventory:
    return Inventory(
        image=ImageInfo(
            reference="scan-test/hand-built:1",
            digest=None,
            config_digest=None,
            architecture="amd64",
            os="linux",
            labels={},
            layers=(),
            base_name=None,
            base_digest=None,
        ),
        os_release=release,
        debs=debs,
        python=python,
        cuda=(),
        artifacts=(),
        data=(),
        plan=None,
    )


# An ML image of 2023 vintage: every version here is a real release that a fixture affects.
OLD_ML_IMAGE = inventory(
    python=(
        dist("torch", "1.13.0"),
        dist("Pillow", "9.5.0"),
        dist("numpy", "1.19.0"),
        dist("scikit-learn", "0.23.0"),
        dist("joblib", "1.1.0"),
    ),
    debs=(
        deb("libssl3", "3.0.11-1~deb12u1", source="openssl"),
        deb("openssl", "3.0.11-1~deb12u1"),
        deb("libc6", "2.36-9+deb12u4", source="glibc"),
    ),
)
