"""Azurite (the npm package) on ephemeral ports of 127.0.0.1, for one test session."""
from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BINARY = REPO_ROOT / ".tools" / "node_modules" / ".bin" / "azurite"

# Azurite's published development account and key (its README, "Default Storage Account"):
# public by design, accepted only by the emulator.
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
           "KBHBeksoGMGw==")

_LISTENING = re.compile(r"Azurite (Blob|Table) service is successfully listening at "
                        r"http://127\.0\.0\.1:(\d+)")
_START_WAIT_S = 180.0  # generous: other engineers load this machine heavily


@dataclass
class Azurite:
    process: subprocess.Popen
    blob_port: int
    table_port: int

    @property
    def connection_string(self) -> str:
        return (f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
                f"BlobEndpoint=http://127.0.0.1:{self.blob_port}/{DEV_ACCOUNT};"
                f"TableEndpoint=http://127.0.0.1:{self.table_port}/{DEV_ACCOUNT};")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def for_session() -> Iterator[Azurite]:
    """The body of a session fixture: skips when the binary is missing (CI installs it)."""
    if not BINARY.exists():
        pytest.skip(f"Azurite is not installed at {BINARY.relative_to(REPO_ROOT)} "
                    "(npm install --prefix .tools azurite@3)")
    running = start()
    yield running
    running.stop()


def start() -> Azurite:
    """Start Azurite in memory. Port 0 lets the kernel pick free ports, so parallel test
    sessions never race for one; the ports are read back from Azurite's startup lines.
    The combined binary has no switch to leave the queue service out: it listens on an
    ephemeral port too, unused."""
    process = subprocess.Popen(
        [str(BINARY), "--blobHost", "127.0.0.1", "--blobPort", "0", "--tableHost", "127.0.0.1",
         "--tablePort", "0", "--queueHost", "127.0.0.1", "--queuePort", "0",
         "--inMemoryPersistence", "--extentMemoryLimit", "512", "--skipApiVersionCheck",
         "--loose", "--disableTelemetry", "--silent"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(process, lines), daemon=True).start()
    ports: dict[str, int] = {}
    seen: list[str] = []
    try:
        while len(ports) < 2:
            line = lines.get(timeout=_START_WAIT_S)
            if line is None:
                raise RuntimeError("Azurite exited while starting:\n" + "".join(seen))
            seen.append(line)
            if match := _LISTENING.search(line):
                ports[match[1]] = int(match[2])
        azurite = Azurite(process, ports["Blob"], ports["Table"])
        for port in (azurite.blob_port, azurite.table_port):
            _wait_until_answering(port)
        return azurite
    except BaseException:
        Azurite(process, 0, 0).stop()
        raise


def _pump(process: subprocess.Popen, lines: queue.Queue) -> None:
    # Reading stdout to the end also keeps Azurite from blocking on a full pipe.
    for line in process.stdout:
        lines.put(line)
    lines.put(None)


def _wait_until_answering(port: int) -> None:
    for _ in range(int(_START_WAIT_S * 10)):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/{DEV_ACCOUNT}?comp=list", timeout=5)
            return
        except urllib.error.HTTPError:
            return  # any HTTP answer, even a refusal of the unsigned request, means it is up
        except OSError:
            threading.Event().wait(0.1)
    raise RuntimeError(f"Azurite does not answer on port {port}")
