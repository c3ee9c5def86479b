-- PATCH /api/tasks/{id}/complete, cycling through the benchmark user's tasks.
dofile(os.getenv("BENCH_DIR") .. "/wrk/report.lua")
local ids = {}
for id in string.gmatch(os.getenv("TASK_IDS"), "[^,]+") do ids[#ids + 1] = id end
local next_id = 0
wrk.headers["Authorization"] = "Bearer " .. os.getenv("ACCESS")
function request()
  next_id = next_id % #ids + 1
  return wrk.format("PATCH", "/api/tasks/" .. ids[next_id] .. "/complete")
end
