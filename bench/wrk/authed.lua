-- GET (or, with BODY set, POST) BENCH_PATH as the benchmark user.
dofile(os.getenv("BENCH_DIR") .. "/wrk/report.lua")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("ACCESS")
wrk.path = os.getenv("BENCH_PATH")
if os.getenv("BODY") then
  wrk.method = "POST"
  wrk.body = os.getenv("BODY")
  wrk.headers["Content-Type"] = "application/json"
end
