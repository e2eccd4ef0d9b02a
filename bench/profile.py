"""`python -m bench.profile [sklearn|torch] [BATCH]`: where a scoring request's time goes.
Deploys the model on a fresh `mlcycle up`, loads it with one client, samples the host
with py-spy (from the bench venv: `make bench` installs it) and prints the frames of
the HTTP threads that take the most samples, cumulative and self."""
from __future__ import annotations

import collections
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import lifecycle, loadgen, mlflow_peer, models, registration, servers

SECONDS = 8


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    kind = argv[0] if argv else "sklearn"
    batch = int(argv[1]) if len(argv) > 1 else 1
    spy = mlflow_peer.py_spy()
    if spy is None:
        raise SystemExit("bench.profile: no py-spy; run `make bench` (or "
                         "`python -m bench --setup`) first")
    work = Path(tempfile.mkdtemp(prefix="mlcycle-profile-"))
    trained = models.train((kind,), work / "models")
    host = servers.start_mlcycle(work)
    try:
        api = lifecycle.client(host.url, host.key)
        deployed: dict = {}
        registration.ensure_deployed(api, trained, (kind,), deployed)
        body = work / "body.json"
        body.write_text(json.dumps({"data": models.rows(batch).tolist()}))
        url = f"{host.url}/api/endpoints/{deployed[kind]['endpoint']}/score"
        loadgen.run(url, body, connections=1, duration=1, key=host.key)  # warm-up
        raw = work / "profile.txt"
        sampler = subprocess.Popen([str(spy), "record", "-p", str(host.process.pid),
                                    "-d", str(SECONDS), "-r", "250", "-f", "raw", "-o",
                                    str(raw), "--nonblocking"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print(loadgen.run(url, body, connections=1, duration=SECONDS + 1, key=host.key))
        sampler.wait()
    finally:
        host.stop()
    print(summarise(raw))
    return 0


def summarise(raw: Path, top: int = 30) -> str:
    """The frames of the request-serving threads, by share of samples."""
    total, cumulative, own = 0, collections.Counter(), collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not any("process_request_thread" in f for f in frames):
            continue  # queue workers, timers: not the request path
        total += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            cumulative[frame] += int(count)
    lines = [f"{total} samples of HTTP threads", "cumulative:"]
    lines += [f"  {100 * n / total:5.1f}% {f}" for f, n in cumulative.most_common(top)]
    lines += ["self:"] + [f"  {100 * n / total:5.1f}% {f}" for f, n in own.most_common(top)]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
