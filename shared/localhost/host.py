"""LocalHost: the FunctionApp's functions on this machine — queue workers in threads,
the drop-zone watcher, the timers and an HTTP server on 127.0.0.1."""
from __future__ import annotations

import dataclasses
import ipaddress
import json
import logging
import os
import secrets
import threading
from pathlib import Path

from shared.bootstrap import Container, bootstrap, install
from shared.handlers.gave_up import record_gave_up
from shared.localhost.http_server import make_server
from shared.localhost.triggers import read_triggers
from shared.localhost.watchers import BlobWatcher, run_timer
from shared.localhost.workers import QueueWorkers
from shared.settings import Settings, mlcycle_home

log = logging.getLogger("mlcycle.host")


class LocalHost:
    def __init__(self, settings: Settings, *, host: str = "127.0.0.1", port: int = 0,
                 key: str | None = None, allow_remote: bool = False) -> None:
        if not allow_remote and not _loopback(host):
            raise ValueError(f"refusing to listen on {host}: not a loopback address "
                             "(pass --allow-remote to do it on purpose)")
        self.settings = settings
        self.key = key or secrets.token_urlsafe(32)
        self.container: Container = bootstrap(settings)
        install(self.container)
        import function_app  # the same registrations Azure reads

        self.triggers = read_triggers(function_app.app)
        self._stop = threading.Event()
        self.workers = QueueWorkers(self.container.bus, self.triggers, gave_up=self._gave_up)
        self.server = make_server(self.triggers, self.key, host, port)
        self.host, self.port = host, self.server.server_address[1]
        self.watchers = [BlobWatcher(self.container.blobs, t, self._stop)
                         for t in self.triggers if t.kind == "blobTrigger"]
        self._threads: list[threading.Thread] = []

    def _gave_up(self, body: bytes, reason: str) -> None:
        p = self.container.ports()
        record_gave_up(body, reason, registry=p["registry"], bus=p["bus"], clock=p["clock"])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host  # IPv6 literal
        return f"http://{host}:{self.port}"

    def start(self) -> "LocalHost":
        self.workers.start()
        self._spawn(self.server.serve_forever, "http")
        for watcher in self.watchers:
            self._spawn(watcher.run, f"blob-{watcher.container}")
        for trigger in self.triggers:
            if trigger.kind == "timerTrigger":
                self._spawn(lambda t=trigger: run_timer(t, self._stop), f"timer-{trigger.name}")
        return self

    def _spawn(self, target, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def join(self, timeout: float = 300.0) -> None:
        """Wait until the queues drain (tests, the demo)."""
        self.workers.join(timeout)

    def stop(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()
        self.workers.stop()
        install(None)

    def __enter__(self) -> "LocalHost":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def write_config(url: str, key: str, home: Path | None = None) -> Path:
    """$MLCYCLE_HOME/config.json, readable by its owner alone: it holds the key."""
    home = home or mlcycle_home()
    home.mkdir(parents=True, exist_ok=True)
    path = home / "config.json"
    # Written beside and renamed into place: a CLI reading it while `up` starts sees the
    # old file or the whole new one, never an empty one.
    partial = home / f".config.json.{os.getpid()}.tmp"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"endpoint": url, "key": key}, f)
    os.chmod(partial, 0o600)
    os.replace(partial, path)
    return path


def serve(port: int = 8470, host: str = "127.0.0.1", data_root: str | None = None,
          allow_remote: bool = False) -> int:
    """`mlcycle up`: run the local host until Ctrl-C."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = Settings.from_env()
    if data_root:
        settings = dataclasses.replace(settings, data_root=Path(data_root))
    local = LocalHost(settings, host=host, port=port, allow_remote=allow_remote).start()
    config = write_config(local.url, local.key)
    print(f"mlcycle is up at {local.url} (data root {settings.data_root}); "
          f"drop specs into {settings.blob_root / 'specs'}; key in {config}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        local.stop()
    return 0
