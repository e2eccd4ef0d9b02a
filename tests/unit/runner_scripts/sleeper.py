"""A job that starts a grandchild, records both pids in outputs/pids.txt, and waits."""
import os
import pathlib
import subprocess
import sys
import time

child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
pathlib.Path("outputs/pids.tmp").write_text(f"{os.getpid()} {child.pid}")
os.replace("outputs/pids.tmp", "outputs/pids.txt")  # readers never see half of it
print("sleeping", flush=True)
time.sleep(120)
