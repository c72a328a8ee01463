#!/usr/bin/env python3
"""A minimal OTLP/HTTP receiver for the service benches (standard library only).

It answers every ``POST /v1/traces``, ``/v1/metrics``, ``/v1/logs`` with an empty
``200`` (an empty protobuf Export*ServiceResponse), so the service under load
exports over a real socket to a real receiver, as it would to a collector, at
the price of reading each body. Metric bodies are decoded only when asked
(``capture_metric``): the base-2 exponential points of that metric, the latest
per attribute set, for the accuracy bench (Prometheus 2.42, the Debian one,
has no OTLP receiver, and the pull exporter drops exponential histograms).
"""

from __future__ import annotations

import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import bench_quantiles


class Sink:
    """Runs the receiver on 127.0.0.1 (an ephemeral port) in a thread."""

    def __init__(self, capture_metric: str | None = None):
        self.capture_metric = capture_metric
        self.lock = threading.Lock()
        self.requests = {"traces": 0, "metrics": 0, "logs": 0}
        self.bytes = 0
        # attribute set (sorted items) -> latest exponential point
        self.points: dict[tuple, dict] = {}
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 (http.server's naming)
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                if self.headers.get("Content-Encoding", "") == "gzip":
                    body = gzip.decompress(body)
                sink._record(self.path, body)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _record(self, path: str, body: bytes) -> None:
        signal = path.rstrip("/").rsplit("/", 1)[-1]
        points = []
        if signal == "metrics" and self.capture_metric:
            points = bench_quantiles.decode_exponential_points(body, self.capture_metric)
        with self.lock:
            self.requests[signal] = self.requests.get(signal, 0) + 1
            self.bytes += len(body)
            for p in points:
                key = tuple(sorted(p["attributes"].items()))
                old = self.points.get(key)
                if old is None or old["time"] <= p["time"]:
                    self.points[key] = p

    @property
    def endpoint(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def exponential_points(self) -> list[dict]:
        with self.lock:
            return list(self.points.values())

    def __enter__(self) -> "Sink":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
