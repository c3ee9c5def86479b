-- An attacker's load on the password strength meter, from as many addresses as it likes (the
-- benchmark runs without per-address limits), with a 128-character password of l33t
-- characters, the slowest kind for zxcvbn to score (about a second of CPU when all of it was
-- scored). Each connection (run with as many threads as connections, so each thread has one)
-- alternates between a registration with a fresh email and a change of its own account's
-- password (`POST /api/auth/password` with the right current password), the two routes that
-- score new passwords. Both passwords are strong, so each is also hashed and stored.
dofile(os.getenv("BENCH_DIR") .. "/wrk/report.lua")
local slow = string.sub(string.rep("4@8({[<3691!|70$5+%2", 7), 1, 128)
local passwords = { slow, string.sub("x" .. slow, 1, 128) }
local current = 1
local access_token = nil
local sent = 0
local last = nil

local function json_body(fields)
  local parts = {}
  for _, field in ipairs(fields) do
    table.insert(parts, string.format('"%s": "%s"', field[1], field[2]))
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

function request()
  sent = sent + 1
  if access_token ~= nil and sent % 2 == 0 then
    last = "password"
    return wrk.format("POST", "/api/auth/password",
      { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. access_token },
      json_body({ { "current_password", passwords[current] },
                  { "new_password", passwords[3 - current] } }))
  end
  last = "register"
  local email = string.format("flood-%d-%d-%d@example.org", thread_index, os.time(), sent)
  return wrk.format("POST", "/api/auth/register", { ["Content-Type"] = "application/json" },
    json_body({ { "email", email }, { "password", passwords[current] } }))
end

function response(status, headers, body)
  if last == "register" and status == 201 and access_token == nil then
    -- This thread's own account: its password is passwords[current] from now on.
    access_token = string.match(body, '"access_token"%s*:%s*"([^"]+)"')
  elseif last == "password" and status == 204 then
    current = 3 - current
  end
end
