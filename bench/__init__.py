"""mlcycle's benchmark suite: `python -m bench` (or `make bench`) measures scoring,
job overhead, registration to a live endpoint, event throughput, cold start and the
ONNX pay-off, writes bench/results.json and regenerates the tables in BENCHMARKS.md."""
