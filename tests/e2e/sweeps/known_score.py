"""A sweep trial whose metric is known from its parameters: it logs `score` = x + y
three times (each one interval of an early termination policy); with --release it then
waits for that file to appear before it ends, so that a policy can be seen to stop it
while it runs. The wait is bounded, so a trial nobody stops still ends."""
import argparse
import time
from pathlib import Path

import mlflow

parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float, required=True)
parser.add_argument("--y", type=float, default=0.0)
parser.add_argument("--release")
args = parser.parse_args()
score = args.x + args.y
for step in range(3):
    mlflow.log_metric("score", score, step=step)
print(f"logged score {score}", flush=True)
deadline = time.monotonic() + 300
while args.release and not Path(args.release).exists() and time.monotonic() < deadline:
    time.sleep(0.1)
print("released", flush=True)
