#!/usr/bin/env bash
# Runs the shell examples of README.md's "Using the API" and "Operations" sections, as written and in order,
# against a fresh release server on 127.0.0.1:8080. Any HTTP error fails the run: `curl` is
# wrapped with --fail-with-body, and the whole script runs under `set -e`.
set -euo pipefail
binary=${1:?usage: readme-examples.sh path/to/todo-server}
binary=$(realpath "$binary")
work=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# The examples as a script: every ```sh block of the "Using the API" and "Operations" sections.
awk '/^## /{on = ($0 ~ /^## (Using the API|Operations)$/)} on && /^```sh$/{block=1; next} block && /^```$/{block=0; print ""; next} block{print}' \
  README.md > "$work/examples.sh"
[ -s "$work/examples.sh" ] || { echo "no examples found in README.md" >&2; exit 1; }

(cd "$work" && exec "$binary") > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:8080/healthz >/dev/null && break; sleep 0.2; done
curl -sf http://127.0.0.1:8080/healthz >/dev/null || { cat "$work/server.log"; exit 1; }

cat > "$work/run.sh" <<'RUN'
set -euo pipefail
curl() { command curl --fail-with-body "$@"; }
RUN
cat "$work/examples.sh" >> "$work/run.sh"
if ! (cd "$work" && bash -x run.sh); then
  echo "README examples failed; server log:" >&2
  cat "$work/server.log" >&2
  exit 1
fi
echo "README examples: all ran"
