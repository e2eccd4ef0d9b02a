"""Request counts and latency per endpoint and deployment, as this process served them
(the studio's endpoint page shows them). Kept in memory: on Functions each instance
counts its own requests, and a restart starts the counts again."""
from __future__ import annotations

import threading
import time
import weakref
from collections import deque

WINDOW = 2048  # the latencies the percentiles are taken over: the most recent requests


class RequestStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by = {}  # (endpoint, deployment) -> [requests, errors, deque of seconds, last]

    def record(self, endpoint: str, deployment: str | None, status: int,
               seconds: float) -> None:
        with self._lock:
            entry = self._by.get((endpoint, deployment or ""))
            if entry is None:
                entry = self._by[endpoint, deployment or ""] = [0, 0, deque(maxlen=WINDOW), ""]
            entry[0] += 1
            entry[1] += status >= 400
            entry[2].append(seconds)
            entry[3] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    def of(self, endpoint: str) -> dict[str, dict]:
        """deployment ("" for requests no deployment took) -> requests, errors, p50_ms,
        p95_ms, last."""
        with self._lock:
            found = {d: (n, e, sorted(lat), last)
                     for (ep, d), (n, e, lat, last) in self._by.items() if ep == endpoint}
        return {d: {"requests": n, "errors": e, "p50_ms": _percentile(lat, 0.50),
                    "p95_ms": _percentile(lat, 0.95), "last": last}
                for d, (n, e, lat, last) in found.items()}


def _percentile(ordered: list[float], share: float) -> float | None:
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000, 3)


# One table per registry: each host (and each test's host) counts its own endpoints.
_stats: "weakref.WeakKeyDictionary[object, RequestStats]" = weakref.WeakKeyDictionary()
_stats_lock = threading.Lock()


def stats_for(registry) -> RequestStats:
    with _stats_lock:
        found = _stats.get(registry)
        if found is None:
            found = _stats[registry] = RequestStats()
        return found
