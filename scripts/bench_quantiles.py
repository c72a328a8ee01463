#!/usr/bin/env python3
"""Quantiles from exported histograms, computed as Prometheus computes them.

Pure functions (standard library only) used by scripts/bench_service.py and
tested in scripts/test_bench_quantiles.py:

- ``bucket_quantile``: ``histogram_quantile`` over classic (explicit) buckets,
  Prometheus' algorithm (promql/quantile.go ``bucketQuantile``): find the first
  bucket whose cumulative count reaches ``q * total`` and interpolate linearly
  inside it, the lowest bucket starting at 0; a rank in the ``+Inf`` bucket
  returns the highest finite bound.
- ``exponential_quantile``: ``histogram_quantile`` over a base-2 exponential
  histogram, as Prometheus does for native histograms (its OTLP receiver maps
  OTel exponential histograms to native histograms): the bucket holding the
  rank, with exponential interpolation inside it (Prometheus >= 2.50; a bucket
  is assumed to be filled as evenly as a finer-scaled histogram would be).
- ``parse_prometheus_buckets``: the ``_bucket`` series of one metric from the
  text exposition format, grouped by one label.
- ``decode_exponential_points``: the exponential-histogram points of one
  metric from an OTLP ``ExportMetricsServiceRequest`` protobuf body (a minimal
  protobuf wire decoder; no generated code, no third-party package).
"""

from __future__ import annotations

import math
import re
import struct

# --- classic buckets -------------------------------------------------------


def bucket_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """``histogram_quantile(q, ...)`` over ``[(upper_bound, cumulative_count)]``.

    The list must contain the ``+Inf`` bucket (``math.inf``). Returns NaN when
    there are no observations.
    """
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    b = sorted(buckets)
    if len(b) < 2 or b[-1][0] != math.inf:
        return math.nan
    # Prometheus ensures monotonic cumulative counts (float noise).
    fixed = []
    top = 0.0
    for le, c in b:
        top = max(top, c)
        fixed.append((le, top))
    b = fixed
    total = b[-1][1]
    if total == 0:
        return math.nan
    rank = q * total
    i = next(i for i, (_, c) in enumerate(b) if c >= rank)
    if i == len(b) - 1:
        return b[-2][0]
    if i == 0 and b[0][0] <= 0:
        return b[0][0]
    start = 0.0 if i == 0 else b[i - 1][0]
    end = b[i][0]
    count = b[i][1] - (0.0 if i == 0 else b[i - 1][1])
    rank -= 0.0 if i == 0 else b[i - 1][1]
    return start + (end - start) * (rank / count)


# --- exponential buckets ---------------------------------------------------


def exponential_quantile(
    q: float, scale: int, offset: int, counts: list[int], zero_count: int = 0
) -> float:
    """``histogram_quantile(q, ...)`` over a positive base-2 exponential
    histogram: bucket ``offset + i`` is ``(base^(offset+i), base^(offset+i+1)]``
    with ``base = 2^(2^-scale)``; the zero bucket holds ``zero_count``.
    """
    total = zero_count + sum(counts)
    if total == 0:
        return math.nan
    rank = q * total
    if rank <= zero_count:
        return 0.0
    seen = float(zero_count)
    base = 2.0 ** (2.0**-scale)
    for i, c in enumerate(counts):
        if c == 0:
            continue
        if seen + c >= rank:
            lower = base ** (offset + i)
            upper = base ** (offset + i + 1)
            fraction = (rank - seen) / c
            # Exponential interpolation: log-linear inside the bucket.
            return lower * (upper / lower) ** fraction
        seen += c
    return base ** (offset + len(counts))


# --- Prometheus text format ------------------------------------------------

_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_prometheus_buckets(
    text: str, metric: str, by: str, where: dict[str, str] | None = None
) -> dict[str, list[tuple[float, float]]]:
    """``{label value of by: [(le, cumulative count)]}`` for ``metric_bucket``,
    summed over every other label (as ``sum by (by, le)``), keeping only the
    series whose labels match ``where``."""
    out: dict[str, dict[float, float]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _LINE.match(line)
        if not m or m.group(1) != f"{metric}_bucket":
            continue
        labels = dict(
            (k, v.replace('\\"', '"').replace("\\\\", "\\"))
            for k, v in _LABEL.findall(m.group(2) or "")
        )
        if any(labels.get(k) != v for k, v in (where or {}).items()):
            continue
        if by not in labels or "le" not in labels:
            continue
        le = math.inf if labels["le"] == "+Inf" else float(labels["le"])
        series = out.setdefault(labels[by], {})
        series[le] = series.get(le, 0.0) + float(m.group(3))
    return {k: sorted(v.items()) for k, v in out.items()}


# --- OTLP protobuf ---------------------------------------------------------


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = 0
    value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i
        shift += 7


def _fields(buf: bytes):
    """Yields ``(field number, wire type, value)``: ints for varint and
    fixed types (fixed64 as raw 8 bytes), bytes for length-delimited."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            v, i = _varint(buf, i)
        elif wire == 1:
            v, i = buf[i : i + 8], i + 8
        elif wire == 2:
            n, i = _varint(buf, i)
            v, i = buf[i : i + n], i + n
        elif wire == 5:
            v, i = buf[i : i + 4], i + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        yield field, wire, v


def _zigzag(n: int) -> int:
    return (n >> 1) ^ -(n & 1)


def _packed_varints(buf: bytes) -> list[int]:
    out = []
    i = 0
    while i < len(buf):
        v, i = _varint(buf, i)
        out.append(v)
    return out


def _string_attributes(kvs: list[bytes]) -> dict[str, str]:
    out = {}
    for kv in kvs:
        key = ""
        value = ""
        for f, _, v in _fields(kv):
            if f == 1:
                key = v.decode()
            elif f == 2:
                for g, _, w in _fields(v):
                    if g == 1:
                        value = w.decode()
                    elif g in (3, 4):  # bool, int
                        value = str(w)
        out[key] = value
    return out


def decode_exponential_points(body: bytes, metric: str) -> list[dict]:
    """The exponential-histogram data points of ``metric`` in one OTLP
    ``ExportMetricsServiceRequest``: dicts with ``attributes``, ``time``,
    ``count``, ``scale``, ``zero_count``, ``offset``, ``counts``."""
    points = []
    for f, _, rm in _fields(body):  # resource_metrics = 1
        if f != 1:
            continue
        for g, _, sm in _fields(rm):  # scope_metrics = 2
            if g != 2:
                continue
            for h, _, m in _fields(sm):  # metrics = 2
                if h != 2:
                    continue
                name = ""
                hist = None
                for k, _, v in _fields(m):
                    if k == 1:
                        name = v.decode()
                    elif k == 10:  # exponential_histogram
                        hist = v
                if name != metric or hist is None:
                    continue
                for k, _, dp in _fields(hist):  # data_points = 1
                    if k == 1:
                        points.append(_exp_point(dp))
    return points


def _exp_point(dp: bytes) -> dict:
    p = {"attributes": {}, "time": 0, "count": 0, "scale": 0, "zero_count": 0,
         "offset": 0, "counts": []}
    attrs = []
    for f, _, v in _fields(dp):
        if f == 1:
            attrs.append(v)
        elif f == 3:
            p["time"] = struct.unpack("<Q", v)[0]
        elif f == 4:
            p["count"] = struct.unpack("<Q", v)[0]
        elif f == 6:
            p["scale"] = _zigzag(v)
        elif f == 7:
            p["zero_count"] = struct.unpack("<Q", v)[0]
        elif f == 8:  # positive buckets
            for g, wire, w in _fields(v):
                if g == 1:
                    p["offset"] = _zigzag(w)
                elif g == 2:
                    p["counts"] = _packed_varints(w) if wire == 2 else p["counts"] + [w]
    p["attributes"] = _string_attributes(attrs)
    return p
