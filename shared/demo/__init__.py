"""`mlcycle demo`: the whole lifecycle on the embedded default."""
from shared.demo.run import main

__all__ = ["main"]
