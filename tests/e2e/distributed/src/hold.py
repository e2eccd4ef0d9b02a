"""Every rank says it has started (outputs/started_<rank>) and waits. The rank named by
--fail-rank exits 1 once a file named `go` appears in its working directory."""
import argparse
import os
import sys
import time
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--fail-rank", type=int, default=-1)
args = parser.parse_args()
rank = int(os.environ["RANK"])
Path(f"outputs/started_{rank}").write_text(str(os.getpid()))
print(f"rank {rank} holding", flush=True)
deadline = time.monotonic() + 110
while time.monotonic() < deadline:
    if rank == args.fail_rank and Path("go").exists():
        print(f"rank {rank} failing", flush=True)
        sys.exit(1)
    time.sleep(0.1)
