#!/usr/bin/env bash
# The benchmark: one command per backend, ratios at the end.
#
#   bench/run.sh sqlite
#   bench/run.sh postgres     # needs PostgreSQL at 127.0.0.1:5432 (trust auth, role postgres)
#
# Starts the release binary on its own fresh database, registers one user with 20 tasks, and
# measures with wrk (installed from Debian if missing):
#   - the authenticated list at BENCH_TASKS (500k) tasks in the table, the others owned by
#     BENCH_USERS (10k) other users, seeded straight into the tables; and the same list on a
#     second server whose own database holds BENCH_SMALL_TASKS (1k), run alternately with the
#     first, three pairs (their ratio is the median pair's);
#   - at 64 and 256 connections: GET /healthz (the framework's ceiling on this machine) and the
#     list, three alternating pairs (their ratio is the median pair's), then toggle, create and
#     refresh (a real rotation, a new pair every time);
#   - /healthz and the list while 8 connections register and change passwords with the slowest
#     passwords to score;
#   - a mixed load of 1000 connections acting as random ones of 10k accounts (4/5 list, 1/5 create);
#   - the list with metrics off and on (METRICS_TOKEN), five alternating restarts each: the
#     cost of recording them; and the same cost as instructions per list request, counted by
#     valgrind (callgrind), which gives the same count for the same binary and requests however
#     busy the machine is (installed from Debian if missing).
# Absolute numbers drift on a shared 2-core machine (wrk shares it too); compare the ratios.
#
# Environment: BENCH_SECONDS (10 per run), BENCH_TASKS, BENCH_SMALL_TASKS, BENCH_USERS,
# BENCH_PORT (18080; the 1k server takes the next one), BENCH_MIXED_ACCOUNTS (10000).
# PostgreSQL is reached with sslmode=disable.
# The server runs without per-address and per-account limits: the benchmark measures capacity.
set -euo pipefail
backend=${1:?usage: bench/run.sh sqlite|postgres}
cd "$(dirname "$0")/.."
export BENCH_DIR=$PWD/bench
seconds=${BENCH_SECONDS:-10}
big=${BENCH_TASKS:-500000}
small=${BENCH_SMALL_TASKS:-1000}
owners=${BENCH_USERS:-10000}
mixed_accounts=${BENCH_MIXED_ACCOUNTS:-10000}
port=${BENCH_PORT:-18080}
secret=bench-secret-bench-secret-bench-secret-0123456789
api=http://127.0.0.1:$port
small_port=$((port + 1))
small_api=http://127.0.0.1:$small_port

# need COMMAND...: installs each missing command from Debian's package of the same name.
need() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null; }
  done
}
need wrk valgrind jq
cargo build --release --quiet
binary=$PWD/target/release/todo-server

work=$(mktemp -d)
server_pid=
small_pid=
pg_db=
cleanup() {
  for pid in "$server_pid" "$small_pid"; do
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  done
  if [ -n "$pg_db" ]; then
    dropdb -h 127.0.0.1 -U postgres --if-exists --force "$pg_db" || true
    dropdb -h 127.0.0.1 -U postgres --if-exists --force "${pg_db}_small" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

case $backend in
  sqlite)
    database_url=$work/bench.db
    small_url=$work/small.db ;;
  postgres)
    pg_db=bench_$$
    createdb -h 127.0.0.1 -U postgres "$pg_db"
    createdb -h 127.0.0.1 -U postgres "${pg_db}_small"
    database_url="postgres://postgres@127.0.0.1:5432/$pg_db?sslmode=disable"
    small_url="postgres://postgres@127.0.0.1:5432/${pg_db}_small?sslmode=disable" ;;
  *) echo "usage: bench/run.sh sqlite|postgres" >&2; exit 2 ;;
esac

stop_server() {
  if [ -n "$server_pid" ]; then kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; fi
  server_pid=
}
# serve URL PORT [ENV=VALUE...] COMMAND...: starts a server on database URL and PORT, with the
# benchmark's settings, COMMAND ending with the binary (valgrind may come before it); its pid
# goes to `started`. Returns once it answers (a minute at most: under valgrind it starts slowly).
serve() {
  local url=$1 on_port=$2
  shift 2
  env DATABASE_URL="$url" JWT_SECRET=$secret BIND_ADDR=127.0.0.1:$on_port \
    AUTH_RATE_LIMIT_PER_MINUTE=0 TASK_WRITES_PER_MINUTE=0 MAX_TASKS_PER_USER=0 \
    ACCESS_TOKEN_TTL_SECONDS=3600 RUST_LOG=warn "$@" >> "$work/server-$on_port.log" 2>&1 &
  started=$!
  for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$on_port/healthz" >/dev/null && break; sleep 0.1; done
  curl -sf "http://127.0.0.1:$on_port/healthz" >/dev/null || { cat "$work/server-$on_port.log"; exit 1; }
}
# launch [ENV=VALUE...] COMMAND...: (re)starts the server on the benchmark's database.
launch() {
  stop_server
  serve "$database_url" "$port" "$@"
  server_pid=$started
}
# start_server [ENV=VALUE...]: the release binary, as it runs in production.
start_server() { launch "$@" "$binary"; }

# bench_user API: registers the benchmark's user on the server at API with 20 tasks; prints
# their access token, id and task ids (comma-separated), one a line.
bench_user() {
  local session access ids=()
  session=$(curl -sf -X POST "$1/api/auth/register" -H 'Content-Type: application/json' \
    -d '{"email": "bench@example.org", "password": "correct horse battery staple"}')
  access=$(jq -r .access_token <<<"$session")
  for i in $(seq 1 20); do
    ids+=("$(curl -sf -X POST "$1/api/tasks" -H "Authorization: Bearer $access" \
      -H 'Content-Type: application/json' -d "{\"title\": \"task $i\"}" | jq -r .id)")
  done
  printf '%s\n%s\n%s\n' "$access" "$(jq -r .user.id <<<"$session")" "$(IFS=,; echo "${ids[*]}")"
}

start_server
{ read -r ACCESS; read -r user_id; read -r TASK_IDS; } < <(bench_user "$api")
export ACCESS TASK_IDS
# The 1k list runs on a server of its own, with its own database, so the two lists can
# alternate like the other pairs: the machine's drift between runs does not decide their ratio.
serve "$small_url" "$small_port" "$binary"
small_pid=$started
small_access=$(bench_user "$small_api" | head -n 1)
export THREADS=2
ulimit -n 65536 2>/dev/null || true

results=$work/results
: > "$results"
# run NAME CONNECTIONS SCRIPT [ENV=VALUE...]: one wrk run against the server at `target` (the
# benchmark's server unless set); its RESULT line goes to the table.
run() {
  local name=$1 connections=$2 script=$3
  shift 3
  local line
  line=$(env "$@" wrk -t"$THREADS" -c"$connections" -d"${seconds}s" --timeout 10s \
    -s "$BENCH_DIR/wrk/$script" "${target:-$api}/healthz" | grep '^RESULT' || true)
  [ -n "$line" ] || { echo "wrk printed no result for $name" >&2; exit 1; }
  printf '%s connections=%s %s\n' "$name" "$connections" "${line#RESULT }" | tee -a "$results"
}
value() { grep "^$1 connections=$2 " "$results" | tr ' ' '\n' | grep "^$3=" | cut -d= -f2; }
# The first round of a repeated run keeps the plain name; later ones are NAME#2, NAME#3.
round_suffix() { [ "$1" = 1 ] || echo "#$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f%%", (b > 0 ? 100 * a / b : 0) }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "== $backend: seeding $small tasks for the second server, $big over $owners users for the first"
python3 "$BENCH_DIR/seed.py" tasks "$small_url" $((small - 20)) 50
python3 "$BENCH_DIR/seed.py" tasks "$database_url" $((big - 20)) "$owners"
for connections in 64 256; do
  # Three alternating pairs: the ratio is the median of the pairs', so a drift of the machine
  # between two runs does not decide it. At 64 connections each round also lists on the 1k
  # server.
  for round in 1 2 3; do
    run "healthz$(round_suffix $round)" "$connections" authed.lua BENCH_PATH=/healthz
    run "list$(round_suffix $round)" "$connections" authed.lua BENCH_PATH='/api/tasks?limit=20'
    if [ "$connections" = 64 ]; then
      target=$small_api run "list@small$(round_suffix $round)" "$connections" authed.lua \
        BENCH_PATH='/api/tasks?limit=20' ACCESS="$small_access"
    fi
  done
  run toggle "$connections" toggle.lua
  run create "$connections" authed.lua BENCH_PATH=/api/tasks BODY='{"title": "benchmark"}'
  python3 "$BENCH_DIR/seed.py" refresh "$database_url" "$user_id" $((connections * 4)) "$work/refresh.tokens"
  run refresh "$connections" refresh.lua REFRESH_TOKENS="$work/refresh.tokens"
done
# The 1k server has done its part.
kill "$small_pid"
wait "$small_pid" 2>/dev/null || true
small_pid=

echo "== $backend: /healthz and the list while 8 clients flood the password strength meter"
wrk -t8 -c8 -d"$((seconds + 4))s" --timeout 10s \
  -s "$BENCH_DIR/wrk/password_flood.lua" "$api/healthz" > "$work/flood.out" &
flood_pid=$!
sleep 2
run healthz@flood 64 authed.lua BENCH_PATH=/healthz
run list@flood 64 authed.lua BENCH_PATH='/api/tasks?limit=20'
wait "$flood_pid"
flood=$(grep '^RESULT' "$work/flood.out" || true)
printf 'flood connections=8 %s\n' "${flood#RESULT }" | tee -a "$results"

echo "== $backend: $mixed_accounts accounts for the mixed load"
python3 "$BENCH_DIR/seed.py" tokens "$database_url" "$mixed_accounts" "$secret" "$work/access.tokens"
run mixed 1000 mixed.lua ACCESS_TOKENS="$work/access.tokens"

echo "== $backend: the list without and with metrics recorded (alternating restarts)"
metrics_token=bench-metrics-token-0123456789abcdef
for round in 1 2 3 4 5; do
  start_server
  run "list@metrics-off-$round" 64 authed.lua BENCH_PATH='/api/tasks?limit=20'
  start_server METRICS_TOKEN=$metrics_token
  run "list@metrics-on-$round" 64 authed.lua BENCH_PATH='/api/tasks?limit=20'
  # Read whole before grep looks: `grep -q` stops at the first match, and with pipefail the
  # curl it cut off (SIGPIPE) would fail the check.
  metrics=$(curl -sf -H "Authorization: Bearer $metrics_token" "$api/metrics")
  grep -q '^http_requests_total{' <<<"$metrics" \
    || { echo "the metrics did not record the list" >&2; exit 1; }
done

# instructions REQUESTS [ENV=VALUE...]: what the server's HTTP connections execute (callgrind's
# count inside actix's HTTP/1 dispatcher, so start-up and background tasks are left out) for
# REQUESTS list requests on one keep-alive connection. On PostgreSQL the queries run on the
# blocking pool, outside the count; the figure is then the work around them.
instructions() {
  local requests=$1 out=$work/callgrind.out
  shift
  launch "$@" valgrind --tool=callgrind --callgrind-out-file="$out" \
    '--toggle-collect=*actix_http::h1::dispatcher::Dispatcher*Future*poll' "$binary"
  python3 - "$port" "$requests" <<'PY'
import http.client, os, sys
port, requests = int(sys.argv[1]), int(sys.argv[2])
connection = http.client.HTTPConnection("127.0.0.1", port)
for _ in range(requests):
    connection.request("GET", "/api/tasks?limit=20", headers={"Authorization": "Bearer " + os.environ["ACCESS"]})
    response = connection.getresponse()
    response.read()
    assert response.status == 200, response.status
PY
  stop_server
  awk '/^(summary|totals):/ { print $2; exit }' "$out"
}
counted=${BENCH_COUNTED_REQUESTS:-2000}
per_request() { echo $(($(instructions "$counted" "$@") / counted)); }
echo "== $backend: instructions per list request without and with metrics (valgrind)"
# Each count runs in a subshell; the server left running here would hold the port.
stop_server
instructions_off=$(per_request)
instructions_on=$(per_request METRICS_TOKEN=$metrics_token)
echo "list: $instructions_off instructions per request without metrics, $instructions_on with"
metrics_off=$(for round in 1 2 3 4 5; do value "list@metrics-off-$round" 64 rps; done | median)
metrics_on=$(for round in 1 2 3 4 5; do value "list@metrics-on-$round" 64 rps; done | median)

echo
echo "## $backend, $(nproc) cores, wrk -t$THREADS, ${seconds}s per run"
echo
echo "| run | connections | req/s | p50 ms | p99 ms | non-2xx | socket errors |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
while read -r name connections rest; do
  eval "${rest// / ; }"
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$name" "${connections#connections=}" \
    "$rps" "$p50_ms" "$p99_ms" "$non2xx" "$socket_errors"
done < "$results"
echo
# paired A B CONNECTIONS: the ratio of runs A and B over their three alternating rounds, as
# "median% (median of three alternating pairs: x%, y%, z%)".
paired() {
  local pairs
  pairs=$(for round in 1 2 3; do
    awk -v a="$(value "$1$(round_suffix $round)" "$3" rps)" \
      -v b="$(value "$2$(round_suffix $round)" "$3" rps)" 'BEGIN { printf "%.0f\n", 100 * a / b }'
  done)
  echo "$(median <<<"$pairs")% (median of three alternating pairs: $(echo $pairs | sed 's/ /%, /g')%)"
}
echo "list at $big tasks / list at $small tasks (64 connections): $(paired list list@small 64)"
for connections in 64 256; do
  echo "list / healthz at $connections connections: $(paired list healthz "$connections")"
done
echo "refresh: $(value refresh 64 rps) req/s at 64 connections, $(value refresh 256 rps) at 256"
echo "under a password-meter flood ($(value flood 8 rps) registrations and password changes/s with 128 l33t characters): /healthz p99 $(value healthz@flood 64 p99_ms) ms (alone: $(value healthz 64 p99_ms) ms), list $(ratio "$(value list@flood 64 rps)" "$(value list 64 rps)") of its throughput alone"
echo "mixed, 1000 connections over $mixed_accounts accounts: $(value mixed 1000 rps) req/s, p50 $(value mixed 1000 p50_ms) ms, non-2xx $(value mixed 1000 non2xx)"
echo "list with metrics recorded / without (median of 5 alternating runs, 64 connections): $(ratio "$metrics_on" "$metrics_off") ($metrics_on vs $metrics_off req/s)"
echo "instructions per list request with metrics / without (valgrind, $counted requests): $(ratio "$instructions_on" "$instructions_off") ($instructions_on vs $instructions_off)"
