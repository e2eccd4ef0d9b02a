"""The three ways a spec file reaches mlcycle, driven against a real local host: dropped
into the specs container, posted to the HTTP API as a bundle, and `mlcycle ... create
-f`. Each returns what the caller was told: (status, message)."""
from __future__ import annotations

import io
import json
import shutil
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

from shared.handlers.spec_dropped import error_path
from tests.cli_runs import run_mlcycle
from tests.processes import wait_for

CORPUS = Path(__file__).parent / "bad_specs"
ENDPOINT = "bad-specs-ep"  # exists on the host, so a deployment can name an unknown model
POOL = "bad-specs-pool"  # max_instances 2
MODEL = "bad-specs-model"  # version 1 only


def case_folder(dest: Path, spec_name: str, text: str | None = None) -> Path:
    """A folder holding the corpus's code folder and one spec as job.yml; returns the
    spec's path. `text` replaces the corpus file (for specs generated at test time)."""
    dest.mkdir(parents=True)
    shutil.copytree(CORPUS / "src", dest / "src")
    spec = dest / "job.yml"
    spec.write_text(text if text is not None else (CORPUS / spec_name).read_text())
    return spec


def drop(host, case: str, folder: Path) -> tuple[int, str]:
    """Move a case's folder into the drop zone at once (so the watcher never sees half
    of it) and wait for its error file."""
    specs = host.container.blobs.local_path("specs")
    specs.mkdir(parents=True, exist_ok=True)
    shutil.move(folder, specs / case)
    error_file = host.container.blobs.local_path(error_path(f"specs/{case}/job.yml"))
    report = json.loads(wait_for(lambda: error_file.exists() and error_file.read_text(),
                                 within_s=60))
    return 400, report["error"]["message"]


def post_bundle(host, folder: Path, route: str) -> tuple[int, str]:
    """What any HTTP client may send: the folder as a tar.gz, links kept as links."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(folder.rglob("*")):
            tar.add(path, arcname=path.relative_to(folder).as_posix(), recursive=False)
    status, reply = _call(host, "/api/snapshots", buffer.getvalue(), "application/gzip")
    assert status == 201, reply
    body = json.dumps({"snapshot": json.loads(reply)["id"], "spec_path": "job.yml"})
    status, reply = _call(host, route, body.encode(), "application/json")
    try:
        return status, json.loads(reply)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return status, reply


def run_cli(host, *argv) -> tuple[int, str]:
    """`mlcycle ARGS` in process; a failed command is a 400 here when it exits 1."""
    code, out, err = run_mlcycle(*argv)
    return (400 if code == 1 else 200 if code == 0 else 500), err + out


def _call(host, path: str, body: bytes, content_type: str) -> tuple[int, str]:
    request = urllib.request.Request(host.url + path, data=body, method="POST", headers={
        "Content-Type": content_type, "x-functions-key": host.key})
    try:
        with urllib.request.urlopen(request, timeout=120) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
