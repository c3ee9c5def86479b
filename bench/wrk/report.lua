-- Shared by every scenario: each thread learns its index (`thread_index`, from 0), and each
-- run ends with one machine-readable line, read by bench/run.sh.
local threads = 0
function setup(thread)
  thread:set("thread_index", threads)
  threads = threads + 1
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format(
    "RESULT rps=%.0f p50_ms=%.2f p99_ms=%.2f requests=%d non2xx=%d socket_errors=%d\n",
    summary.requests / seconds, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, summary.errors.status, errors))
end
