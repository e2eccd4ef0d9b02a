-- wrk script: POST the body in $BENCH_BODY with the key in $BENCH_KEY, and print the
-- figures the bench needs as one JSON line (wrk's own report rounds them for people).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local key = os.getenv("BENCH_KEY")
if key and key ~= "" then wrk.headers["x-functions-key"] = key end
local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.body = f:read("*a")
f:close()

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_s": %.6f, "errors": %d, "non2xx": %d, ' ..
    '"p50_ms": %.4f, "p99_ms": %.4f, "mean_ms": %.4f}\n',
    summary.requests, summary.duration / 1e6, e.connect + e.read + e.write + e.timeout,
    e.status, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3, latency.mean / 1e3))
end
