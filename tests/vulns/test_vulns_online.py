"""The OSV API source against a server on loopback that speaks the API, serving the fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _fake_osv import PAGE_SIZE, FakeOsv, serve
from _vulns_support import RECORDS, pypi

from imagekit.vulns import Package, VulnSourceError
from imagekit.vulns.online import ApiSource


@pytest.fixture
def fake_osv() -> FakeOsv:
    return FakeOsv(RECORDS)


@pytest.fixture
def osv_url(fake_osv: FakeOsv) -> Iterator[str]:
    with serve(fake_osv) as url:
        yield url


def test_querybatch_paginates_then_fetches_each_vuln(fake_osv: FakeOsv, osv_url: str) -> None:
    result = ApiSource(osv_url).fetch([pypi("torch", "1.13.0"), pypi("Pillow", "9.5.0")])
    torch_ids = {
        "GHSA-47fc-vmwq-366v",
        "GHSA-4vmg-rw8f-92f9",
        "GHSA-887c-mr87-cxwp",
        "PYSEC-2022-43015",
    }
    pillow_ids = {"GHSA-8ghj-p4vj-mr35", "PYSEC-2023-175", "PYSEC-2023-227"}
    assert {r.id for r in result.records} == torch_ids | pillow_ids
    assert result.warnings == ()
    posts = [body for method, _, body in fake_osv.requests if method == "POST"]
    assert posts[0] == {
        "queries": [
            {"package": {"name": "torch", "ecosystem": "PyPI"}, "version": "1.13.0"},
            {"package": {"name": "pillow", "ecosystem": "PyPI"}, "version": "9.5.0"},
        ]
    }
    # torch has 4 ids and pillow 3, one per page: 4 batches, each asking only the unfinished.
    assert [len(p["queries"]) for p in posts] == [2, 2, 2, 1]
    assert posts[1]["queries"][0]["page_token"] == str(PAGE_SIZE)
    gets = sorted(path for method, path, _ in fake_osv.requests if method == "GET")
    assert gets == sorted(f"/v1/vulns/{i}" for i in torch_ids | pillow_ids)
    assert {r.origin for r in result.records} >= {f"{osv_url}/v1/vulns/PYSEC-2023-175"}


def test_debian_packages_are_asked_by_release(fake_osv: FakeOsv, osv_url: str) -> None:
    openssl = Package(
        ecosystem="Debian:12", name="openssl", version="3.0.11-1~deb12u1", components=()
    )
    result = ApiSource(osv_url).fetch([openssl])
    assert [r.id for r in result.records] == ["DSA-5532-1"]
    assert fake_osv.requests[0][2]["queries"][0]["package"]["ecosystem"] == "Debian:12"


def test_server_error_stops_the_scan() -> None:
    with (
        serve(FakeOsv(RECORDS, fail_with=500)) as url,
        pytest.raises(VulnSourceError, match=r"/v1/querybatch: HTTP 500 .*\(check --osv-url\)$"),
    ):
        ApiSource(url).fetch([pypi("torch", "1.13.0")])


def test_unreachable_api_says_how_to_scan_offline() -> None:
    with serve(FakeOsv(RECORDS)) as url:
        pass  # closed on leaving: its port now refuses connections
    with pytest.raises(VulnSourceError, match=r"cannot reach the OSV API .*--osv PATH$"):
        ApiSource(url, timeout=5).fetch([pypi("torch", "1.13.0")])


def test_base_url_must_be_http() -> None:
    with pytest.raises(VulnSourceError, match=r"--osv-url 'file:///etc' is not an http\(s\) URL"):
        ApiSource("file:///etc")
