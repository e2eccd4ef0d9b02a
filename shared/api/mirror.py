"""Mirrored (shadow) traffic, as Azure ML's `mirror_traffic` does it: a share of the
requests an endpoint's split routes is also sent to its mirror deployment. The copy
goes in the background and its answer is dropped: the caller never waits for it and
never hears of its failure. What became of the copies is counted per deployment, in
this process, for the deployment's logs."""
from __future__ import annotations

import logging
import random
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from shared.api.replies import Reply
from shared.ports import Registry

log = logging.getLogger("mlcycle.mirror")
WORKERS = 2
# Copies waiting or being scored at once; beyond it a copy is dropped (and counted), so
# that a slow mirror never piles up work or memory behind the live traffic.
MAX_IN_FLIGHT = 64


@dataclass
class MirrorCounts:
    """Copies of live requests for one deployment: sent (drawn by its share), then
    answered (a 2xx), failed (an error answer or an exception, the last one's reason
    kept) or dropped (too many in flight)."""

    sent: int = 0
    answered: int = 0
    failed: int = 0
    dropped: int = 0
    last_error: str | None = None


_counts: weakref.WeakKeyDictionary[Registry, dict] = weakref.WeakKeyDictionary()
_lock = threading.Lock()
_slots = threading.BoundedSemaphore(MAX_IN_FLIGHT)
_pool: ThreadPoolExecutor | None = None


def mirror(registry: Registry, endpoint: str, shares: dict,
           send: Callable[[str], Reply]) -> None:
    """Draw each mirror deployment's share; send(deployment) scores a copy of the request
    with that deployment, in the background, for those drawn."""
    for deployment, percent in shares.items():
        if percent > 0 and random.random() * 100 < percent:
            _submit(_count(registry, endpoint, deployment), lambda d=deployment: send(d))


def counts(registry: Registry, endpoint: str, deployment: str) -> dict:
    """{"sent", "answered", "failed", "dropped", "last_error"} of the copies for the
    deployment since this process started; sent less the others are still going."""
    with _lock:
        found = _counts.get(registry, {}).get((endpoint, deployment))
        return asdict(found or MirrorCounts())


def _count(registry: Registry, endpoint: str, deployment: str) -> MirrorCounts:
    with _lock:
        return _counts.setdefault(registry, {}).setdefault((endpoint, deployment),
                                                           MirrorCounts())


def _submit(count: MirrorCounts, send: Callable[[], Reply]) -> None:
    with _lock:
        count.sent += 1
    if not _slots.acquire(blocking=False):
        with _lock:
            count.dropped += 1
        return
    try:
        _executor().submit(_send, count, send)
    except RuntimeError:  # the interpreter is shutting down: no more copies
        _slots.release()
        with _lock:
            count.dropped += 1


def _send(count: MirrorCounts, send: Callable[[], Reply]) -> None:
    try:
        reply = send()
        error = None if reply.status < 400 else _reason(reply)
    except Exception as exc:  # noqa: BLE001 - a copy's failure is the mirror's, not the caller's
        error = f"{type(exc).__name__}: {exc}"
    finally:
        _slots.release()
    with _lock:
        if error is None:
            count.answered += 1
            return
        repeated, count.last_error = count.last_error == error, error
        count.failed += 1
    if not repeated:  # once per new reason: a failing mirror under load would flood the log
        log.warning("a mirrored request failed: %s", error)


def _reason(reply: Reply) -> str:
    body = reply.body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return f"{reply.status}: {body['error'].get('message')}"
    return f"answered {reply.status}"


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="mlcycle-mirror")
        return _pool
