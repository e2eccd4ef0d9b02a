"""Request counts and latency per endpoint and deployment, as this process served them
(the studio's endpoint page shows them). Kept in memory: on Functions each instance
counts its own requests, and a restart starts the counts again.

Recording is on every scoring request, reading only when someone looks: a request
appends to a deque (atomic in CPython, no lock a request could wait on) and the reader,
or a request now and then, folds what piled up into the table under a lock."""
from __future__ import annotations

import threading
import time
import weakref
from collections import deque

WINDOW = 2048  # the latencies the percentiles are taken over: the most recent requests
FOLD_AT = 4096  # a request folds the pile when it grows this long: memory stays bounded


class RequestStats:
    def __init__(self) -> None:
        self._pending: deque = deque()
        self._lock = threading.Lock()  # guards _by and the folding, never held by record
        self._by = {}  # (endpoint, deployment) -> [requests, errors, deque of seconds, last]

    def record(self, endpoint: str, deployment: str | None, status: int,
               seconds: float) -> None:
        self._pending.append((endpoint, deployment or "", status, seconds, time.time()))
        if len(self._pending) >= FOLD_AT and self._lock.acquire(blocking=False):
            try:
                self._fold()
            finally:
                self._lock.release()

    def of(self, endpoint: str) -> dict[str, dict]:
        """deployment ("" for requests no deployment took) -> requests, errors, p50_ms,
        p95_ms, last."""
        with self._lock:
            self._fold()
            found = {d: (n, e, sorted(lat), last)
                     for (ep, d), (n, e, lat, last) in self._by.items() if ep == endpoint}
        return {d: {"requests": n, "errors": e, "p50_ms": _percentile(lat, 0.50),
                    "p95_ms": _percentile(lat, 0.95),
                    "last": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(last))}
                for d, (n, e, lat, last) in found.items()}

    def _fold(self) -> None:
        pending, by = self._pending, self._by
        while pending:  # only the folder pops, under the lock: never empty here
            endpoint, deployment, status, seconds, at = pending.popleft()
            entry = by.get((endpoint, deployment))
            if entry is None:
                entry = by[endpoint, deployment] = [0, 0, deque(maxlen=WINDOW), 0.0]
            entry[0] += 1
            entry[1] += status >= 400
            entry[2].append(seconds)
            entry[3] = at


def _percentile(ordered: list[float], share: float) -> float | None:
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000, 3)


# One table per registry: each host (and each test's host) counts its own endpoints.
_stats: "weakref.WeakKeyDictionary[object, RequestStats]" = weakref.WeakKeyDictionary()
_stats_lock = threading.Lock()


def stats_for(registry) -> RequestStats:
    found = _stats.get(registry)  # the common case, without the lock
    if found is not None:
        return found
    with _stats_lock:
        found = _stats.get(registry)
        if found is None:
            found = _stats[registry] = RequestStats()
        return found
