#!/usr/bin/env bash
# Property-based API tests: runs Schemathesis against the OpenAPI 3.1 document that a fresh
# server generates at GET /api/openapi.json, authenticated as a freshly registered user.
# Checks: no 5xx (not_a_server_error), response bodies match their schema, every status code
# and Content-Type is documented. Any failure fails the run.
#
#   bash .ci/schemathesis.sh path/to/todo-server
#
# Environment (all optional):
#   SCHEMATHESIS_MAX_EXAMPLES  test cases per operation and phase (default 100)
#   SCHEMATHESIS_TIMEOUT       hard limit on the whole Schemathesis run in seconds (default 420)
#   SCHEMATHESIS_SEED          seed of the data generation (default 20240601)
#   SCHEMATHESIS_REPORT_DIR    keep the JUnit and NDJSON reports here (default: discarded)
#   SCHEMATHESIS_VENV          where to install Schemathesis when `st` is not on PATH
set -euo pipefail
binary=${1:?usage: schemathesis.sh path/to/todo-server}
binary=$(realpath "$binary")
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
max_examples=${SCHEMATHESIS_MAX_EXAMPLES:-100}
hard_timeout=${SCHEMATHESIS_TIMEOUT:-420}
seed=${SCHEMATHESIS_SEED:-20240601}

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# --- Schemathesis ----------------------------------------------------------------------------
# An `st` / `schemathesis` on PATH is used when it is a 4.x (the options below are 4.x ones);
# otherwise the pinned version is installed with pip into a cached virtualenv.
st=
for candidate in st schemathesis; do
  if command -v "$candidate" >/dev/null && "$candidate" --version 2>/dev/null | grep -q 'version 4\.'; then
    st=$(command -v "$candidate")
    break
  fi
done
if [ -z "$st" ]; then
  venv=${SCHEMATHESIS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/todo-server/schemathesis-$SCHEMATHESIS_VERSION}
  if ! "$venv/bin/st" --version 2>/dev/null | grep -qF "version $SCHEMATHESIS_VERSION"; then
    echo "installing schemathesis==$SCHEMATHESIS_VERSION into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  fi
  st=$venv/bin/st
fi
"$st" --version

# --- server ----------------------------------------------------------------------------------
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
secret=$(python3 -c 'import secrets; print(secrets.token_urlsafe(36))') # 48 characters

(
  cd "$work"
  # Generated logins as the test user start sessions of their own; beyond the session limit
  # the least recently used (the token's own) would be revoked, and its token refused.
  export DATABASE_URL=$work/todo.db BIND_ADDR=127.0.0.1:$port JWT_SECRET=$secret \
    COOKIE_SECURE=false AUTH_RATE_LIMIT_PER_MINUTE=0 TASK_WRITES_PER_MINUTE=0 RUST_LOG=warn \
    MAX_SESSIONS_PER_USER=1000000
  exec "$binary"
) > "$work/server.log" 2>&1 &
server_pid=$!

ready=
for _ in $(seq 1 100); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/healthz" || true)" = 200 ]; then ready=1; break; fi
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "server did not become healthy on $base; log:" >&2
  cat "$work/server.log" >&2
  exit 1
fi

# --- a user and its access token -------------------------------------------------------------
curl -sS --fail-with-body -X POST "$base/api/auth/register" -H 'Content-Type: application/json' \
  -d '{"email":"schemathesis@example.com","password":"correct horse battery staple"}' \
  > "$work/register.json"
read -r token user_id < <(python3 -c '
import json, sys
body = json.load(open(sys.argv[1]))
print(body["access_token"], body["user"]["id"])' "$work/register.json")

# The /api/{user_id}/... routes answer 403 for any id but the token subject's: pin user_id to the
# registered user's id so that those operations are exercised past the ownership check. Half of
# the generated login/register bodies and X-Token-Transport headers take a real value, so that
# successful logins, registrations (each email once; 409 after) and the cookie transport are
# exercised too instead of only their 4xx answers.
emails=$(python3 -c 'print(", ".join(f"\"schemathesis-{i}@example.com\"" for i in range(40)))')
cat > "$work/schemathesis.toml" <<TOML
[parameters]
"path.user_id" = "$user_id"
"body.email" = { dictionary = "emails", probability = 0.5 }
"body.password" = { dictionary = "passwords", probability = 0.5 }
"header.X-Token-Transport" = { dictionary = "transports", probability = 0.5 }

[dictionaries.emails]
values = ["schemathesis@example.com", $emails]

[dictionaries.passwords]
values = ["correct horse battery staple"]

[dictionaries.transports]
values = ["body", "cookie"]
TOML

# --- run -------------------------------------------------------------------------------------
report_dir=${SCHEMATHESIS_REPORT_DIR:-$work/report}
mkdir -p "$report_dir"
report_dir=$(realpath "$report_dir")
# No --max-time: in Schemathesis 4 it is a budget that fuzzing and stateful testing repeat to
# fill, not a cap, so the run would always last that long. The run is bounded by --max-examples
# (about 20 s at 100 on 2 cores) and cut by `timeout` should it hang. A fixed --seed, no example
# database and one worker make it reproducible: the same seed sends the same requests.
# Output is not sanitized, so that the printed curl reproductions work as they are: the token
# belongs to a throwaway server with a random secret that is gone when this script exits.
args=(
  --config-file "$work/schemathesis.toml"
  run "$base/api/openapi.json"
  -H "Authorization: Bearer $token"
  --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance
  --max-examples "$max_examples"
  --seed "$seed"
  --generation-database none
  --workers 1
  --continue-on-failure
  --suppress-health-check too_slow
  --request-timeout 10
  --no-color
  --output-sanitize false
  --report junit,ndjson
  --report-dir "$report_dir"
)
# Two passes with the one token: logging out everywhere, and revoking a session (stateful tests
# follow the session list's ids, the token's own among them), end the token's own session, whose
# access token is refused from then on. So those run on their own, after everything else.
session_enders='^/api/auth/(logout-all|sessions/[{]session_id[}])$'
status=0
for pass in "--exclude-path-regex $session_enders" "--include-path-regex $session_enders"; do
  # shellcheck disable=SC2206 # the pass is two words on purpose
  pass_args=("${args[@]}" $pass)
  echo "+ st ${pass_args[*]}" | sed "s/Bearer [^ ]*/Bearer <token>/"
  (cd "$work" && timeout --kill-after=10 "$hard_timeout" "$st" "${pass_args[@]}") || status=$?
  [ "$status" -eq 0 ] || break
done

if [ "$status" -ne 0 ]; then
  echo "schemathesis failed (exit $status); reports in $report_dir; server log:" >&2
  tail -n 50 "$work/server.log" >&2
  exit "$status"
fi
echo "schemathesis: no failures"
