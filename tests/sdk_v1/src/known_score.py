"""A HyperDrive trial whose metric is known from its parameters: it logs `score` = x + y
three times with Run.get_context().log (each one interval of an early termination
policy); with --release it then waits for that file before it ends, so that a policy can
be seen to stop it while it runs. The wait is bounded, so a trial nobody stops ends."""
import argparse
import time
from pathlib import Path

from azureml.core import Run

parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float, required=True)
parser.add_argument("--y", type=float, default=0.0)
parser.add_argument("--release")
args = parser.parse_args()
run = Run.get_context()
for _ in range(3):
    run.log("score", args.x + args.y)
print(f"logged score {args.x + args.y}", flush=True)
deadline = time.monotonic() + 300
while args.release and not Path(args.release).exists() and time.monotonic() < deadline:
    time.sleep(0.1)
print("released", flush=True)
