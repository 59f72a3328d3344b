"""`imagekit build --check-reproducible`: build twice from clean state and compare the images.

Both builds use the daemonless oci backend, each into its own fresh folder, with the layer
cache bypassed (`no_cache`: every layer is written again, none is reused). The pinned base
and the hash-checked wheel cache are inputs, not outputs, and are shared. When the manifest
digests differ, `compare_layouts` names the first difference, as diffoci does: the first
differing layer and, inside it, the first tar entry field that differs; or, with equal layers,
the first differing key of the image config or manifest.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path
from typing import IO, Any

from imagekit.build.backends import BackendKind, Outputs, Progress, capabilities
from imagekit.build.oci import Image, read_layout
from imagekit.build.pipeline import build_project
from imagekit.errors import ImagekitError
from imagekit.image.compress import open_layer
from imagekit.image.layout import blob_path, read_blob
from imagekit.image.model import parse_json
from imagekit.image.tarlayer import iter_members
from imagekit.plan.catalog import Catalog

END = "(end of layer)"
_MISSING = "(absent)"
_ABSENT = object()  # a key or list item only one side has


class NotReproducibleCheckableError(ImagekitError):
    """The reproducibility check was asked of a backend that cannot give equal images."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Difference:
    """The first thing two images disagree on.

    `part`: "layers" (their number), "layer", "config" or "manifest". For a layer, `layer` is
    its index (base first), `diff_ids` the two diff ids and `entry` the file inside it; `field`
    is the tar entry field ("content sha256", "mtime", ...) or, for config and manifest, the
    JSON path ("config.Env[1]").
    """

    part: str
    field: str
    a: str
    b: str
    layer: int | None = None
    diff_ids: tuple[str, str] | None = None
    entry: str = ""

    def describe(self) -> str:
        """One line for the user: where the images differ, and both values."""
        values = f"{self.a} != {self.b}"
        if self.part != "layer":
            return f"{self.part} differ: {self.field}: {values}"
        a, b = self.diff_ids or ("", "")
        where = f"layer {self.layer} ({a} != {b})"
        return f"{where}: {self.entry or '(layer)'}: {self.field}: {values}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReproducibleCheck:
    """The two builds' manifest digests and, if they differ, the first difference."""

    first: str
    second: str
    difference: Difference | None

    @property
    def reproducible(self) -> bool:
        return self.first == self.second


def check_reproducible(
    project: Path,
    *,
    progress: Progress,
    backend: BackendKind = BackendKind.OCI,
    catalog: Catalog | None = None,
    tag: str | None = None,
) -> ReproducibleCheck:
    """Build `project` twice from clean state and compare the two layouts.

    Raises `NotReproducibleCheckableError` for a backend that does not claim reproducible
    images (docker and oci do), and whatever
    `build_project` raises.
    """
    unreproducible = capabilities(backend).unreproducible
    if unreproducible:
        usable = " or ".join(k.value for k in BackendKind if capabilities(k).reproducible)
        raise NotReproducibleCheckableError(
            f"--check-reproducible needs the {usable} backend: {unreproducible} (fix: use "
            f"--backend {usable}, or leave --backend out)"
        )
    with tempfile.TemporaryDirectory(prefix="imagekit-reproducible-") as tmp:
        layouts, digests = [], []
        for run in ("first", "second"):
            out = Path(tmp) / run
            layout = out / "oci"
            outcome = build_project(
                project,
                progress=_prefixed(progress, f"{run} build: "),
                backend=backend,
                catalog=catalog,
                output=out,
                tag=tag,
                no_cache=True,  # every layer written again; none reused from the layer cache
                outputs=Outputs(oci_dir=layout),
            )
            layouts.append(layout)
            digests.append(outcome.result.image_id)
        difference = None
        if digests[0] != digests[1]:
            progress("comparing the two images")
            difference = compare_layouts(layouts[0], layouts[1])
    return ReproducibleCheck(first=digests[0], second=digests[1], difference=difference)


def compare_layouts(a: Path, b: Path) -> Difference | None:
    """The first difference between the images of two OCI layouts; None if they are equal.

    Layers are compared first (base first, entry by entry), then the config, then the manifest.
    Raises `OciError` for a missing or corrupt layout.
    """
    image_a, image_b = read_layout(a), read_layout(b)
    if image_a.manifest_digest == image_b.manifest_digest:
        return None
    if len(image_a.layers) != len(image_b.layers):
        return Difference(
            part="layers",
            field="count",
            a=str(len(image_a.layers)),
            b=str(len(image_b.layers)),
        )
    for index, (la, lb) in enumerate(zip(image_a.layers, image_b.layers, strict=True)):
        ids = (la.diff_id, lb.diff_id)
        if la.diff_id != lb.diff_id:
            found = _compare_layer(a, image_a, b, image_b, index)
            return found or Difference(
                part="layer", field="diff_id", a=ids[0], b=ids[1], layer=index, diff_ids=ids
            )
        if la.descriptor != lb.descriptor:  # same tar, compressed differently
            da, db = la.descriptor, lb.descriptor
            return Difference(
                part="layer",
                field="compressed blob",
                a=f"{da.media_type} {da.digest}",
                b=f"{db.media_type} {db.digest}",
                layer=index,
                diff_ids=ids,
            )
    for part, ja, jb in (
        ("config", _config_json(a, image_a), _config_json(b, image_b)),
        ("manifest", image_a.manifest.to_dict(), image_b.manifest.to_dict()),
    ):
        path = first_json_difference(ja, jb, part)
        if path is not None:
            return Difference(part=part, field=path[0], a=path[1], b=path[2])
    return Difference(
        part="manifest", field="digest", a=image_a.manifest_digest, b=image_b.manifest_digest
    )


def _config_json(layout: Path, image: Image) -> Any:
    where = str(blob_path(layout, image.manifest.config.digest))
    return parse_json(read_blob(layout, image.manifest.config), where)


def first_json_difference(a: Any, b: Any, path: str) -> tuple[str, str, str] | None:
    """The JSON path of the first difference between `a` and `b`, with both values."""
    children = _children(a, b, path)
    if children is None:  # leaves, or values of different kinds
        same = a is not _ABSENT and b is not _ABSENT and type(a) is type(b) and a == b
        return None if same else (path, _dump(a), _dump(b))
    for child, x, y in children:
        found = first_json_difference(x, y, child)
        if found is not None:
            return found
    return None


def _children(a: Any, b: Any, path: str) -> list[tuple[str, Any, Any]] | None:
    if isinstance(a, dict) and isinstance(b, dict):
        keys = sorted(set(a) | set(b))
        return [(f"{path}.{k}", a.get(k, _ABSENT), b.get(k, _ABSENT)) for k in keys]
    if isinstance(a, list) and isinstance(b, list):
        pairs = zip_longest(a, b, fillvalue=_ABSENT)
        return [(f"{path}[{i}]", x, y) for i, (x, y) in enumerate(pairs)]
    return None


def _dump(value: Any) -> str:
    return _MISSING if value is _ABSENT else json.dumps(value, sort_keys=True)


def _prefixed(progress: Progress, prefix: str) -> Progress:
    return lambda line: progress(f"{prefix}{line}")


def _compare_layer(a: Path, ia: Image, b: Path, ib: Image, index: int) -> Difference | None:
    la, lb = ia.layers[index], ib.layers[index]
    ids = (la.diff_id, lb.diff_id)
    with (
        open_layer(blob_path(a, la.descriptor.digest), la.descriptor.media_type) as sa,
        open_layer(blob_path(b, lb.descriptor.digest), lb.descriptor.media_type) as sb,
    ):
        pairs = zip_longest(
            _entries(sa, f"{a}: layer {index}"), _entries(sb, f"{b}: layer {index}")
        )
        for ea, eb in pairs:
            if ea is None or eb is None:
                name_a = END if ea is None else ea[0][1]
                name_b = END if eb is None else eb[0][1]
                entry = name_b if ea is None else name_a
                return Difference(
                    part="layer",
                    field="entry",
                    a=name_a,
                    b=name_b,
                    layer=index,
                    diff_ids=ids,
                    entry=entry,
                )
            for (field, va), (_, vb) in zip(ea, eb, strict=True):
                if va != vb:
                    return Difference(
                        part="layer",
                        field=field,
                        a=va,
                        b=vb,
                        layer=index,
                        diff_ids=ids,
                        entry=ea[0][1],
                    )
    return None


Fields = tuple[tuple[str, str], ...]


def _entries(stream: IO[bytes], where: str) -> Iterator[Fields]:
    """Each tar entry's fields in the order they are compared (name first, content last)."""
    for tar, member in iter_members(stream, where):
        yield _fields(member, _content_sha256(tar, member))


def _content_sha256(tar: tarfile.TarFile, member: tarfile.TarInfo) -> str:
    if not member.isreg():
        return ""
    digest = hashlib.sha256()
    f = tar.extractfile(member)
    if f is not None:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _fields(m: tarfile.TarInfo, content: str) -> Fields:
    return (
        ("name", m.name),
        ("type", m.type.decode(errors="replace")),
        ("mode", oct(m.mode)),
        ("uid", str(m.uid)),
        ("gid", str(m.gid)),
        ("uname", m.uname),
        ("gname", m.gname),
        ("mtime", str(m.mtime)),
        ("size", str(m.size)),
        ("linkname", m.linkname),
        ("pax headers", json.dumps(m.pax_headers, sort_keys=True)),
        ("content sha256", content),
    )
