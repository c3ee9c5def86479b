-- An attacker's load on the password strength meter, from as many addresses as it likes (the
-- benchmark runs without per-address limits): registrations with a fresh email each and a
-- 128-character password of l33t characters, the slowest kind for zxcvbn to score (about a
-- second of CPU when all of it was scored). Each is strong, so it is also hashed and stored.
dofile(os.getenv("BENCH_DIR") .. "/wrk/report.lua")
local password = string.sub(string.rep("4@8({[<3691!|70$5+%2", 7), 1, 128)
local sent = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
function request()
  sent = sent + 1
  local email = string.format("flood-%d-%d-%d@example.org", thread_index, os.time(), sent)
  return wrk.format(nil, "/api/auth/register", nil,
    '{"email": "' .. email .. '", "password": "' .. password .. '"}')
end
