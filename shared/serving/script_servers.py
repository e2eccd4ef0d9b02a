"""The supervisor of scoring-script servers: one process per deployment version, on the
local host.

Each version of a deployment (its code snapshot, scoring script, model version and
environment) is a `ScriptInstance` named by the hash of those parts, with a state folder
`<root>/<id>/` holding its code, its model (`azureml-models/<name>/<version>/`, which
`AZUREML_MODEL_DIR` names, as in Azure ML) and its server's files. Starting is
idempotent and safe to repeat after a crash: a live server of the same instance is
adopted (it lives on after the host that started it died), a dead one is started again.
The folder is staged beside and renamed into place, so it is whole or absent.
"""
from __future__ import annotations

import fcntl
import http.client
import json
import os
import shutil
import subprocess
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from shared.domain.errors import TransientError
from shared.ports import BlobStore
from shared.runner.snapshot import extract_snapshot
from shared.serving import script_process as process
from shared.serving.script_errors import ScoringServerError, ScoringTimeout
from shared.serving.script_instance import ScriptInstance, interpreter_for

DESCRIPTION = "instance.json"
READY_TIMEOUT_S = 600.0


class ScriptServers:
    """Starts, finds, scores through and stops the scoring-script servers of one host.

    Parameters
    ----------
    root
        Where instances keep their state folders (`<data_root>/serving`).
    blobs
        Where code snapshots and model files are read from.
    envs
        Where environments' venvs are cached (`<data_root>/envs`).
    ready_timeout_s
        How long a server may take to load its script and run `init()`.
    """

    def __init__(self, root: Path, *, blobs: BlobStore, envs: Path,
                 ready_timeout_s: float = READY_TIMEOUT_S) -> None:
        self.root, self.blobs, self.envs = Path(root), blobs, Path(envs)
        self.ready_timeout_s = ready_timeout_s
        self._servers: dict[str, process.Server] = {}
        # Every child this process started, by pid, until reaped: a server found again
        # through its state folder is still this process's to wait for.
        self._children: dict[int, subprocess.Popen] = {}
        # Instances a roll-out or a delete stopped: a request that was routed to one
        # before the change must not start it again.
        self._retired: set[str] = set()
        self._lock = threading.Lock()  # guards the three, never held while starting
        self._closed = False

    def start(self, instance: ScriptInstance) -> None:
        """Make the instance serve: adopt its live server, or stage it and start one,
        waiting until it answers its health check.

        Raises:
            ScriptFailed: the script failed to load or init, or never got ready.
            PermanentError: its environment's venv could not be built.
        """
        with self._lock:
            self._retired.discard(instance.id)
        with self._starting(instance.id):
            state = self.root / instance.id
            if self._adopt(state, instance.id) is not None:
                return
            self._stage(instance, state)
            interpreter = interpreter_for(instance.environment, self.envs)
            self._refuse_if_closed()
            child = process.launch(
                state, interpreter=interpreter, script=state / "code" / instance.scoring_script,
                instance=instance.id, env=self._script_env(instance, state), cwd=state / "code")
            with self._lock:
                self._children[child.pid] = child
            server = process.wait_ready(state, child, instance=instance.id,
                                        timeout_s=self.ready_timeout_s)
            if self._closed:  # stop_all ran meanwhile and could not see this one
                process.stop(server)
                self._refuse_if_closed()
            with self._lock:
                self._servers[instance.id] = server

    def _refuse_if_closed(self) -> None:
        if self._closed:
            # Not the script's fault: the deploy message is retried by the next host.
            raise TransientError("the host is stopping; the server starts with the next one")

    def score(self, instance: ScriptInstance, body: bytes, *,
              timeout_s: float) -> tuple[int, bytes]:
        """Send one request body to the instance's `run()`; its status and JSON body.
        A server that is not running (the host restarted, or it died) is started first.

        Raises:
            ScriptFailed: it had to be started, and could not be.
            ScoringTimeout: no answer within timeout_s.
            ScoringServerError: the server broke off the request.
        """
        try:
            return self._send(instance, body, timeout_s)
        except ConnectionRefusedError:  # gone since it was last seen: the body never left
            self._forget(instance.id)
        try:
            return self._send(instance, body, timeout_s)
        except ConnectionRefusedError:
            self._forget(instance.id)
            raise ScoringServerError(f"deployment {instance.deployment}: its scoring server "
                                     "refuses connections") from None

    def _send(self, instance: ScriptInstance, body: bytes,
              timeout_s: float) -> tuple[int, bytes]:
        server = self._serving(instance)
        try:
            return process.request(server, "POST", "/score", body, timeout_s)
        except ConnectionRefusedError:
            raise
        except TimeoutError:
            raise ScoringTimeout(f"deployment {instance.deployment}: run() did not answer "
                                 f"within {timeout_s:g} s") from None
        except (ConnectionError, http.client.HTTPException) as exc:
            self._forget(instance.id)
            raise ScoringServerError(f"deployment {instance.deployment}: its scoring server "
                                     f"broke off the request ({type(exc).__name__}); it "
                                     "starts again for the next one") from None

    def retire(self, endpoint: str, deployment: str, keep: frozenset[str] = frozenset()) -> None:
        """Stop and remove the deployment's instances other than those in keep."""
        for state in self._states():
            described = _description(state)
            if (described.get("endpoint"), described.get("deployment")) == (endpoint, deployment) \
                    and state.name not in keep:
                self.remove(state.name)

    def prune(self, keep: set[str]) -> None:
        """Stop and remove every instance not in keep, and what a staging that died left
        (a host starting up: nothing is being started yet)."""
        for entry in self.root.iterdir() if self.root.is_dir() else ():
            if entry.name.startswith(".staging-"):
                shutil.rmtree(entry, ignore_errors=True)
        for state in self._states():
            if state.name not in keep:
                self.remove(state.name)

    def remove(self, instance_id: str) -> None:
        """Stop the instance's server, if it runs, and delete its state folder."""
        with self._lock:
            self._retired.add(instance_id)
        with self._starting(instance_id):
            self._stop(self.root / instance_id, instance_id)
            shutil.rmtree(self.root / instance_id, ignore_errors=True)

    def stop_all(self) -> None:
        """Stop every server, and start none after (the host is stopping); their
        folders stay, for a quick start next time."""
        self._closed = True
        for state in self._states():
            with self._starting(state.name):
                self._stop(state, state.name)

    def running(self) -> dict[str, int]:
        """Instance id -> pid of every server that runs now."""
        found = {}
        for state in self._states():
            server = self._known(state, state.name)
            if server is not None:
                found[state.name] = server.pid
        return found

    def _serving(self, instance: ScriptInstance) -> process.Server:
        with self._lock:
            server, retired = self._servers.get(instance.id), instance.id in self._retired
        if server is None or not server.alive():
            if retired:
                raise TransientError(f"deployment {instance.deployment}: the version this "
                                     "request was routed to has just been replaced; send "
                                     "it again")
            self.start(instance)
            with self._lock:
                server = self._servers[instance.id]
        return server

    def _adopt(self, state: Path, instance_id: str) -> process.Server | None:
        server = self._known(state, instance_id)
        if server is not None and process.healthy(server, instance_id):
            with self._lock:
                self._servers[instance_id] = server
            return server
        self._stop(state, instance_id)  # a server that answers wrongly, or not at all
        return None

    def _known(self, state: Path, instance_id: str) -> process.Server | None:
        """The live server of a state folder: this process's child, or one whose
        command line shows it is that instance's (a reused pid is not)."""
        with self._lock:
            server = self._servers.get(instance_id)
        if server is not None and server.alive():
            return server
        server = process.read_server(state)
        if server is None:
            return None
        with self._lock:
            server.child = self._children.get(server.pid)
        if not server.alive() or not process.is_ours(server.pid, instance_id):
            return None
        return server

    def _stop(self, state: Path, instance_id: str) -> None:
        with self._lock:
            server = self._servers.pop(instance_id, None)
        if server is None or not server.alive():
            server = self._known(state, instance_id)
        if server is not None:
            process.stop(server)
        with self._lock:
            self._children = {p: c for p, c in self._children.items() if c.poll() is None}
        (state / "server.json").unlink(missing_ok=True)

    def _forget(self, instance_id: str) -> None:
        """Drop what is known of a server that stopped answering; the next request
        finds out whether it runs, and starts it again if not."""
        with self._lock:
            server = self._servers.pop(instance_id, None)
        if server is not None and server.child is not None:
            server.child.poll()  # reaps it if it exited

    def _stage(self, instance: ScriptInstance, state: Path) -> None:
        """Code and model in the instance's folder, once; whole or not at all."""
        if (state / DESCRIPTION).is_file():
            return
        shutil.rmtree(state, ignore_errors=True)
        partial = self.root / f".staging-{instance.id}-{uuid.uuid4().hex[:8]}"
        try:
            extract_snapshot(self.blobs.get(instance.snapshot), partial / "code")
            self.blobs.download(instance.model_path, self._model_dir(instance, partial))
            (partial / DESCRIPTION).write_text(json.dumps(instance.to_record(), indent=1))
            os.replace(partial, state)
        finally:
            shutil.rmtree(partial, ignore_errors=True)

    def _script_env(self, instance: ScriptInstance, state: Path) -> dict[str, str]:
        # What Azure ML's inference server sets, over the deployment's own variables.
        return {**instance.environment_variables,
                "AZUREML_MODEL_DIR": str(self._model_dir(instance, state)),
                "AML_APP_ROOT": str(state / "code"),
                "AZUREML_ENTRY_SCRIPT": instance.scoring_script}

    @staticmethod
    def _model_dir(instance: ScriptInstance, state: Path) -> Path:
        return state / "azureml-models" / instance.model / instance.model_version

    def _states(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return [p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")]

    @contextmanager
    def _starting(self, instance_id: str) -> Iterator[None]:
        """One start or stop of an instance at a time, across threads and processes
        (flock is released by the kernel if its holder dies)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / f".{instance_id}.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _description(state: Path) -> dict:
    try:
        return json.loads((state / DESCRIPTION).read_text())
    except (OSError, ValueError):
        return {}
