"""Load generators: wrk (Debian's package; a C event loop, so never the bottleneck here)
and, where wrk is missing (the quick run in the tests), a small asyncio client run in
its own process. Both keep connections alive and report requests/s and p50/p99 latency.

`python -m bench.loadgen URL --body-file F --connections C --duration S [--key K]`
runs the asyncio client and prints one JSON line."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent


def available() -> str:
    return "wrk" if shutil.which("wrk") else "python"


def run(url: str, body_file: Path, *, connections: int, duration: float, key: str = "",
        tool: str | None = None) -> dict:
    """One measurement: {"rps", "p50_ms", "p99_ms", "requests", "errors", "tool"}."""
    tool = tool or available()
    if tool == "wrk":
        result = _wrk(url, body_file, connections, duration, key)
    else:
        result = _python(url, body_file, connections, duration, key)
    result["rps"] = result["requests"] / result["duration_s"] if result["duration_s"] else 0.0
    result["tool"] = tool
    return result


def _wrk(url: str, body_file: Path, connections: int, duration: float, key: str) -> dict:
    # One thread: the other core belongs to the server under test.
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s",
           "--timeout", "30s", "-s", str(HERE / "wrk_post.lua"), url]
    env = {**os.environ, "BENCH_BODY": str(body_file), "BENCH_KEY": key}
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("BENCH "))
    return json.loads(line[len("BENCH "):])


def _python(url: str, body_file: Path, connections: int, duration: float, key: str) -> dict:
    cmd = [sys.executable, "-m", "bench.loadgen", url, "--body-file", str(body_file),
           "--connections", str(connections), "--duration", str(duration), "--key", key]
    out = subprocess.run(cmd, cwd=HERE.parent, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- the asyncio client --------------------------------------------------------------

async def _client(host: str, port: int, request: bytes, stop_at: float,
                  latencies: list[float], counts: dict) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < stop_at:
            start = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = _content_length(head)
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            if not head.startswith(b"HTTP/1.1 2"):
                counts["non2xx"] += 1
    finally:
        writer.close()


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            return int(line[15:])
    return 0


async def _load(url: str, body: bytes, connections: int, duration: float, key: str) -> dict:
    parts = urlsplit(url)
    request = (f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
               f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
               + (f"x-functions-key: {key}\r\n" if key else "") + "\r\n").encode() + body
    latencies: list[float] = []
    counts = {"non2xx": 0}
    start = time.perf_counter()
    results = await asyncio.gather(*[
        _client(parts.hostname, parts.port, request, start + duration, latencies, counts)
        for _ in range(connections)], return_exceptions=True)
    elapsed = time.perf_counter() - start
    latencies.sort()
    pick = (lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1e3) \
        if latencies else (lambda q: 0.0)
    return {"requests": len(latencies), "duration_s": elapsed,
            "errors": sum(isinstance(r, Exception) for r in results),
            "non2xx": counts["non2xx"], "p50_ms": pick(0.50), "p99_ms": pick(0.99),
            "mean_ms": sum(latencies) / len(latencies) * 1e3 if latencies else 0.0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--body-file", type=Path, required=True)
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--duration", type=float, default=2.0)
    parser.add_argument("--key", default="")
    args = parser.parse_args(argv)
    result = asyncio.run(_load(args.url, args.body_file.read_bytes(), args.connections,
                               args.duration, args.key))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
