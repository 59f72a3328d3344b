"""The OSV API (https://google.github.io/osv.dev/api/) as a vulnerability source.

    POST {base}/v1/querybatch  {"queries": [{"package": {"name", "ecosystem"}, "version"}, ...]}
         -> {"results": [{"vulns": [{"id", "modified"}], "next_page_token"?}, ...]}
         A result with a next_page_token is asked again with "page_token" until it has none.
    GET  {base}/v1/vulns/{id} -> the full record

The API's answer is a hint; whether a record affects the installed version is decided by the
same matcher as for an export. Any transport or HTTP failure stops the scan (`VulnSourceError`):
a partial answer must not look like a clean image.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from imagekit import __version__
from imagekit.errors import Finding, InputError
from imagekit.limits import MAX_JSON_DOCUMENT, load_json
from imagekit.vulns.export import RULE_RECORD, warning
from imagekit.vulns.interface import Package, SourceKind, SourceResult, VulnSource, VulnSourceError
from imagekit.vulns.osv import OsvFormatError, OsvRecord

DEFAULT_URL = "https://api.osv.dev"
BATCH_SIZE = 1000  # the API's limit of queries per batch
MAX_PAGES = 100  # per query; far beyond any real package, stops a server that never ends
TIMEOUT_S = 30.0


class ApiSource(VulnSource):
    kind = SourceKind.API

    def __init__(self, base_url: str = DEFAULT_URL, *, timeout: float = TIMEOUT_S) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise VulnSourceError(
                f"--osv-url {base_url!r} is not an http(s) URL (default: {DEFAULT_URL})"
            )
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def describe(self) -> str:
        return f"OSV API at {self.base_url}"

    def fetch(self, packages: Sequence[Package]) -> SourceResult:
        ids: set[str] = set()
        for start in range(0, len(packages), BATCH_SIZE):
            ids.update(self._query_batch(packages[start : start + BATCH_SIZE]))
        records: list[OsvRecord] = []
        warnings: list[Finding] = []
        for vuln_id in sorted(ids):
            url = f"{self.base_url}/v1/vulns/{urllib.parse.quote(vuln_id, safe='')}"
            try:
                records.append(OsvRecord.from_dict(self._request(url), origin=url))
            except OsvFormatError as e:
                warnings.append(
                    warning(
                        Path("osv-api"),
                        url,
                        RULE_RECORD,
                        f"not a valid OSV record ({e}); skipped",
                        "try again later, or report it to the OSV database",
                    )
                )
        return SourceResult(records=tuple(records), warnings=tuple(warnings))

    def _query_batch(self, packages: Sequence[Package]) -> set[str]:
        queries: list[dict[str, Any]] = [
            {"package": {"name": p.name, "ecosystem": p.ecosystem}, "version": p.version}
            for p in packages
        ]
        ids: set[str] = set()
        pending = list(range(len(queries)))
        for _ in range(MAX_PAGES):
            if not pending:
                return ids
            answer = self._request(
                f"{self.base_url}/v1/querybatch", {"queries": [queries[i] for i in pending]}
            )
            results = answer.get("results")
            if not isinstance(results, list) or len(results) != len(pending):
                raise VulnSourceError(
                    f"{self.base_url}/v1/querybatch: the answer does not list one result per "
                    "query (is --osv-url an OSV API?)"
                )
            pending = self._collect(results, pending, queries, ids)
        raise VulnSourceError(
            f"{self.base_url}/v1/querybatch: still paginating after {MAX_PAGES} pages; stopped"
        )

    @staticmethod
    def _collect(
        results: list[Any], pending: list[int], queries: list[dict[str, Any]], ids: set[str]
    ) -> list[int]:
        """Add each result's ids; return the queries to ask again (with their page token)."""
        again: list[int] = []
        for index, raw in zip(pending, results, strict=True):
            result = raw if isinstance(raw, dict) else {}
            for vuln in result.get("vulns") or []:
                if isinstance(vuln, dict) and isinstance(vuln.get("id"), str):
                    ids.add(vuln["id"])
            token = result.get("next_page_token")
            if isinstance(token, str) and token:
                queries[index] = queries[index] | {"page_token": token}
                again.append(index)
        return again

    def _request(self, url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            url,
            data=data,
            method="POST" if data is not None else "GET",
            headers={"Content-Type": "application/json", "User-Agent": f"imagekit/{__version__}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                payload = response.read(MAX_JSON_DOCUMENT + 1)  # refused on parse if larger
        except urllib.error.HTTPError as e:
            raise VulnSourceError(f"{url}: HTTP {e.code} {e.reason} (check --osv-url)") from e
        except (urllib.error.URLError, TimeoutError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise VulnSourceError(
                f"{url}: cannot reach the OSV API ({reason}); scan offline with --osv PATH"
            ) from e
        try:
            answer = load_json(payload, url)
        except InputError as e:
            raise VulnSourceError(f"{url}: the answer is not usable JSON ({e.message})") from e
        if not isinstance(answer, dict):
            raise VulnSourceError(f"{url}: the answer is not a JSON object")
        return answer
