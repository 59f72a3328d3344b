"""A connection dropped mid-blob, against the real local registry through a TCP proxy: the
push or pull fails in one line naming the reference, leaves nothing half-written, and a
second push sends only the blobs the first did not finish."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from _dropping_proxy import dropping_proxy
from _registry_support import build_layout, layout_blobs, local_registry

from imagekit.registry import ClientOptions, RegistryError, pull_to_layout, push_layout

SIZE = 400_000  # the large layer; the connection drops inside it
OPTIONS = ClientOptions(chunk_size=64 << 10)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A registry started here with empty storage: the first push has every blob to send."""
    with local_registry(tmp_path_factory.mktemp("registry")) as started:
        yield started.address


def test_a_push_dropped_mid_blob_fails_in_one_line_and_resumes(
    registry: str, tmp_path: Path
) -> None:
    built = build_layout(tmp_path / "layout", seed="drop-push", size=SIZE)
    with dropping_proxy(registry, drop_after=SIZE // 2, upload=True) as proxy:
        ref = f"{proxy.address}/imagekit-test/drops:push"
        with pytest.raises(RegistryError) as failed:
            push_layout(built.root, ref, options=OPTIONS)
        assert proxy.dropped.is_set()
        message = str(failed.value)
        assert "\n" not in message and proxy.address in message, message
        assert "the connection broke during PATCH" in message, message
        again = push_layout(built.root, ref, options=OPTIONS)
    assert again.digest == built.manifest_digest
    # The blobs that were whole before the drop are not sent again.
    assert again.existing and sorted(again.existing + again.uploaded) == sorted(built.blobs)
    pulled = tmp_path / "pulled"
    pull_to_layout(f"{registry}/imagekit-test/drops:push", pulled)
    assert layout_blobs(pulled) == layout_blobs(built.root)


def test_a_pull_dropped_mid_blob_fails_in_one_line_and_leaves_no_layout(
    registry: str, tmp_path: Path
) -> None:
    built = build_layout(tmp_path / "layout", seed="drop-pull", size=SIZE)
    push_layout(built.root, f"{registry}/imagekit-test/drops:pull")
    dest = tmp_path / "pulled"
    with dropping_proxy(registry, drop_after=SIZE // 2, upload=False) as proxy:
        ref = f"{proxy.address}/imagekit-test/drops:pull"
        with pytest.raises(RegistryError) as failed:
            pull_to_layout(ref, dest, options=OPTIONS)
        assert proxy.dropped.is_set()
        assert "\n" not in str(failed.value) and proxy.address in str(failed.value)
        assert "the connection closed after" in str(failed.value), failed.value
        assert not dest.exists()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["layout"]
        assert pull_to_layout(ref, dest, options=OPTIONS) == built.manifest_digest
    assert layout_blobs(dest) == layout_blobs(built.root)
