"""LocalHost: the FunctionApp's functions on this machine — queue workers in threads,
the drop-zone watcher, the timers and an HTTP server on 127.0.0.1."""
from __future__ import annotations

import dataclasses
import ipaddress
import logging
import secrets
import signal
import threading
from pathlib import Path

from shared.bootstrap import Container, bootstrap, install
from shared.handlers.gave_up import gave_up_hook
from shared.handlers.script_deployments import recover, start_all
from shared.localhost.client_config import write_config, write_sdk_env
from shared.localhost.http_server import make_server
from shared.localhost.tls import ensure_certificates, server_context
from shared.localhost.triggers import read_triggers
from shared.localhost.watchers import BlobWatcher, run_timer
from shared.localhost.workers import QueueWorkers
from shared.settings import Settings, mlcycle_home

log = logging.getLogger("mlcycle.host")


class LocalHost:
    def __init__(self, settings: Settings, *, host: str = "127.0.0.1", port: int = 0,
                 key: str | None = None, allow_remote: bool = False,
                 tls_home: Path | None = None) -> None:
        """tls_home: where the TLS certificates live (made there if missing); given, the
        port answers HTTPS beside HTTP, as azure-ai-ml needs."""
        if not allow_remote and not _loopback(host):
            raise ValueError(f"refusing to listen on {host}: not a loopback address "
                             "(pass --allow-remote to do it on purpose)")
        self.key = key or secrets.token_urlsafe(32)
        # The SDK door checks bearer tokens and signs upload URLs with the same key.
        self.settings = settings = dataclasses.replace(settings, api_key=self.key)
        self.tls = ensure_certificates(tls_home) if tls_home is not None else None
        self.container: Container = bootstrap(settings)
        install(self.container)
        import function_app  # the same registrations Azure reads

        self.triggers = read_triggers(function_app.app)
        self._stop = threading.Event()
        self.workers = QueueWorkers(self.container.bus, self.triggers,
                                    gave_up=gave_up_hook(self.container.ports))
        from functions.http_endpoints import DIRECT

        self.server = make_server(self.triggers, self.key, host, port,
                                  tls=server_context(self.tls) if self.tls else None,
                                  direct=DIRECT)
        self.host, self.port = host, self.server.server_address[1]
        self.watchers = [BlobWatcher(self.container.blobs, t, self._stop)
                         for t in self.triggers if t.kind == "blobTrigger"]
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host  # IPv6 literal
        return f"http://{host}:{self.port}"

    @property
    def tls_url(self) -> str:
        """The same port over HTTPS (with tls_home only)."""
        return self.url.replace("http://", "https://", 1)

    def start(self) -> "LocalHost":
        # Before any message is taken: what no deployment serves goes, what serves is
        # started again (or adopted, when a host that died left it running).
        serving = recover(registry=self.container.registry, scripts=self.container.scripts)
        self.workers.start()
        self._spawn(lambda: start_all(self.container.scripts, serving), "script-servers")
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
        self.container.scripts.stop_all()
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


def serve(port: int = 8470, host: str = "127.0.0.1", data_root: str | None = None,
          allow_remote: bool = False) -> int:
    """`mlcycle up`: run the local host until Ctrl-C or SIGTERM."""
    stopping = threading.Event()
    # Set here rather than trusted to Python's default: a process started in the
    # background by a non-interactive shell inherits SIGINT ignored, and a service
    # manager stops with SIGTERM; either way the host should stop cleanly.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = Settings.from_env()
    if data_root:
        settings = dataclasses.replace(settings, data_root=Path(data_root))
    home = mlcycle_home()
    local = LocalHost(settings, host=host, port=port, allow_remote=allow_remote,
                      tls_home=home).start()
    # config.json last: its appearing tells a waiting client that everything is ready.
    sdk_env = write_sdk_env(local.tls_url, local.tls, home)
    config = write_config(local.url, local.key, home, workspace=settings.workspace_name)
    print(f"mlcycle is up at {local.url} (data root {settings.data_root}); "
          f"drop specs into {settings.blob_root / 'specs'}; key in {config}; "
          f"for azure-ai-ml: source {sdk_env}", flush=True)
    try:
        stopping.wait()
    finally:
        local.stop()
    return 0
