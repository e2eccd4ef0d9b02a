"""Blob and timer triggers, locally: a poller over the drop-zone folder and interval
threads for the timers."""
from __future__ import annotations

import logging
import threading

import azure.functions as func
from azure.functions.timer import TimerRequest

from shared.localhost.triggers import Trigger, interval_of
from shared.ports import BlobStore

log = logging.getLogger("mlcycle.host")


class BlobWatcher:
    """Fires a blob trigger once per new or changed file, after the file has kept the
    same size and content stamp for one scan (so a half-copied folder is not read).
    A file written again counts as changed even with the same size and mtime (`cp -p`,
    a move of a copy that kept its times): the stamp holds its inode and ctime too."""

    def __init__(self, blobs: BlobStore, trigger: Trigger, stop: threading.Event,
                 every_s: float = 0.5):
        self.blobs, self.trigger, self.stop, self.every_s = blobs, trigger, stop, every_s
        self.container = trigger.path.split("/", 1)[0]
        self._seen: dict[str, tuple] = {}
        self._pending: dict[str, tuple] = {}

    def run(self) -> None:
        while not self.stop.wait(self.every_s):
            try:
                self.scan()
            except Exception:  # one bad scan must not end the watcher
                log.exception("scanning %s failed", self.container)

    def scan(self) -> int:
        fired = 0
        for name in self.blobs.list(self.container):
            if name.endswith(".error.json"):
                continue
            stamp = _stamp(self.blobs, name)
            if stamp is None or self._seen.get(name) == stamp:
                continue
            if self._pending.get(name) != stamp:
                self._pending[name] = stamp  # wait one scan for the file to settle
                continue
            self._fire(name)
            self._seen[name] = stamp
            fired += 1
        return fired

    def _fire(self, name: str) -> None:
        data = self.blobs.get(name)
        stream = func.blob.InputStream(data=data, name=name, length=len(data),
                                       uri=f"local://{name}")
        try:
            self.trigger.function(**{self.trigger.arg_name: stream})
        except Exception:
            log.exception("blob trigger %s failed for %s", self.trigger.name, name)


def _stamp(blobs: BlobStore, name: str) -> tuple | None:
    path = blobs.local_path(name)
    try:
        st = path.stat()
    except (OSError, AttributeError):
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)


def run_timer(trigger: Trigger, stop: threading.Event) -> None:
    interval = interval_of(trigger.schedule)
    if not trigger.run_on_startup and stop.wait(interval):
        return
    while True:
        try:
            trigger.function(**{trigger.arg_name: TimerRequest(past_due=False)})
        except Exception:
            log.exception("timer %s failed", trigger.name)
        if stop.wait(interval):
            return
