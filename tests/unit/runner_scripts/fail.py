"""A job that saves some output, then fails with exit code 3."""
import pathlib
import sys

pathlib.Path("outputs/partial.txt").write_text("half way")
print("about to fail", flush=True)
sys.exit(3)
