"""A small iris model for the crash tests. Each start appends its pid to <trace>/starts.txt,
so a test can tell an adopted training from a restarted one; with --hold it then waits
for <trace>/release, so the host can be killed while it runs."""
import os
import sys
import time
from pathlib import Path

import joblib
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

trace = Path(sys.argv[sys.argv.index("--trace") + 1])
with open(trace / "starts.txt", "a") as starts:
    starts.write(f"{os.getpid()}\n")
if "--hold" in sys.argv:
    while not (trace / "release").exists():
        time.sleep(0.05)
x, y = load_iris(return_X_y=True)
os.makedirs("outputs", exist_ok=True)
joblib.dump(LogisticRegression(max_iter=500).fit(x, y), "outputs/model.pkl")
print("trained", flush=True)
