"""A sweep trial for the crash tests: each start appends "<x> <pid>" to
<trace>/starts.txt, so a test can tell a trial run once from one run twice; the trial
with x 1 then waits for <trace>/release, so the host can be killed while it runs."""
import argparse
import os
import time
from pathlib import Path

import mlflow

parser = argparse.ArgumentParser()
parser.add_argument("--x", type=int, required=True)
parser.add_argument("--trace", required=True)
args = parser.parse_args()
trace = Path(args.trace)
with open(trace / "starts.txt", "a") as starts:
    starts.write(f"{args.x} {os.getpid()}\n")
deadline = time.monotonic() + 300
while args.x == 1 and not (trace / "release").exists() and time.monotonic() < deadline:
    time.sleep(0.05)
mlflow.log_metric("score", args.x)
