-- POST /api/auth/refresh, a real rotation each time. Every thread owns its own slice of the
-- seeded sessions and keeps a queue of their newest refresh tokens: a request takes one, its
-- response gives back the successor, so no token is ever presented twice.
dofile(os.getenv("BENCH_DIR") .. "/wrk/report.lua")
local queue = {}
function init(args)
  local thread_count = tonumber(os.getenv("THREADS"))
  local line_no = 0
  for line in io.lines(os.getenv("REFRESH_TOKENS")) do
    if line_no % thread_count == thread_index then queue[#queue + 1] = line end
    line_no = line_no + 1
  end
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
function request()
  local token = table.remove(queue, 1)
  if token == nil then error("the refresh token queue ran dry: seed more sessions") end
  return wrk.format(nil, "/api/auth/refresh", nil, '{"refresh_token":"' .. token .. '"}')
end
function response(status, headers, body)
  local token = string.match(body, '"refresh_token":"([^"]+)"')
  if token then queue[#queue + 1] = token end
end
