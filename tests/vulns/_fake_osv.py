"""A fake OSV API on loopback: /v1/querybatch (paginated, one id per page) and
/v1/vulns/{id}, serving the fixture records. It answers like api.osv.dev; which records affect
the version is left to the client, as the real API's answer is only used as a hint."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

PAGE_SIZE = 1  # one id per page, so that every multi-advisory package paginates


class FakeOsv:
    """An OSV API over the fixture records: /v1/querybatch (paginated) and /v1/vulns/{id}."""

    def __init__(self, records: Path, *, fail_with: int | None = None) -> None:
        self.records = {p.stem: json.loads(p.read_text()) for p in records.glob("*.json")}
        self.fail_with = fail_with
        self.requests: list[tuple[str, str, Any]] = []

    def ids_for(self, query: dict[str, Any]) -> list[str]:
        package = query["package"]
        base = package["ecosystem"].partition(":")[0]
        name = canonicalize_name(package["name"]) if base == "PyPI" else package["name"]
        return sorted(
            vuln_id
            for vuln_id, record in self.records.items()
            for affected in record.get("affected", [])
            if affected["package"]["ecosystem"].partition(":")[0] == base
            and (
                canonicalize_name(affected["package"]["name"])
                if base == "PyPI"
                else affected["package"]["name"]
            )
            == name
        )

    def answer(self, query: dict[str, Any]) -> dict[str, Any]:
        ids = self.ids_for(query)
        start = int(query.get("page_token") or 0)
        page = ids[start : start + PAGE_SIZE]
        out: dict[str, Any] = {}
        if page:
            out["vulns"] = [
                {"id": i, "modified": self.records[i].get("modified", "")} for i in page
            ]
        if start + PAGE_SIZE < len(ids):
            out["next_page_token"] = str(start + PAGE_SIZE)
        return out


def _handler(api: FakeOsv) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the test reads `api.requests`."""

        def reply(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            api.requests.append(("POST", self.path, body))
            if api.fail_with:
                self.reply(api.fail_with, {"code": 13, "message": "internal"})
            elif self.path == "/v1/querybatch":
                self.reply(200, {"results": [api.answer(q) for q in body["queries"]]})
            else:
                self.reply(404, {"message": "not found"})

        def do_GET(self) -> None:
            api.requests.append(("GET", self.path, None))
            vuln_id = self.path.removeprefix("/v1/vulns/")
            if self.path.startswith("/v1/vulns/") and vuln_id in api.records:
                self.reply(200, api.records[vuln_id])
            else:
                self.reply(404, {"code": 5, "message": "Bug not found."})

    return Handler


@contextmanager
def serve(api: FakeOsv) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
