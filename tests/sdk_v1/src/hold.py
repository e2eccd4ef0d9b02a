"""A run that holds until it is canceled (or ten minutes pass)."""
import time

print("holding", flush=True)
for _ in range(600):
    time.sleep(1)
