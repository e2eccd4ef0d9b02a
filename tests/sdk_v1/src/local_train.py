"""The compute-target guide's train.py: a run on the local computer, on the python the
environment names; it says which python it ran on."""
import os
import sys

from azureml.core import Run

run = Run.get_context()
print("python:", sys.executable, flush=True)
run.log("answer", 42)
run.log("python", sys.executable)
os.makedirs("outputs", exist_ok=True)
with open("outputs/python.txt", "w") as f:
    f.write(sys.executable)
