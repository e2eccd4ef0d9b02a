"""`python -m bench.payload`: what a scoring request's JSON costs before the model sees
it, per batch size: the body's size, orjson's decode (a Python float per value),
`np.asarray` of the rows, and, as the alternative tried, numpy's own text parser over
the numbers. In process, on the digits rows every server is sent; no server needed."""
from __future__ import annotations

import json
import sys

import numpy as np
import orjson

from bench.models import rows
from bench.stats import per_call, summary

BATCHES = (1, 64, 1024)


def measure(batch: int, *, min_s: float = 0.5, repeats: int = 3) -> dict:
    body = json.dumps({"data": rows(batch).tolist()}).encode()
    values = orjson.loads(body)["data"]
    numbers = body[body.index(b"[") + 1:body.rindex(b"]")].replace(b"[", b" ").replace(b"]", b" ")

    def ms(call) -> dict:
        return summary(per_call(call, min_s=min_s) * 1e3 for _ in range(repeats))
    return {"body_kib": len(body) / 1024, "orjson_loads_ms": ms(lambda: orjson.loads(body)),
            "np_asarray_ms": ms(lambda: np.asarray(values)),
            "np_fromstring_ms": ms(lambda: np.fromstring(numbers, sep=","))}


def main(argv: list[str] | None = None) -> int:
    batches = [int(b) for b in (sys.argv[1:] if argv is None else argv)] or BATCHES
    print("| batch | body KiB | orjson.loads ms | np.asarray ms | np.fromstring ms |")
    print("|---|---|---|---|---|")
    for batch in batches:
        m = measure(batch)
        print(f"| {batch} | {m['body_kib']:.1f} | {m['orjson_loads_ms']['median']:.3f} | "
              f"{m['np_asarray_ms']['median']:.3f} | {m['np_fromstring_ms']['median']:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
