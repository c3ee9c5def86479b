-- Many users at once: each request acts as a random one of the seeded accounts (an access
-- token each in ACCESS_TOKENS): four in five read their list, one in five adds a task.
dofile(os.getenv("BENCH_DIR") .. "/wrk/report.lua")
local tokens = {}
function init(args)
  for line in io.lines(os.getenv("ACCESS_TOKENS")) do tokens[#tokens + 1] = line end
  math.randomseed(os.time() * 100 + thread_index)
end
function request()
  local headers = { ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)] }
  if math.random(5) == 1 then
    headers["Content-Type"] = "application/json"
    return wrk.format("POST", "/api/tasks", headers, '{"title":"mixed load"}')
  end
  return wrk.format("GET", "/api/tasks?limit=20", headers)
end
