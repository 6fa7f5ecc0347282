#!/bin/sh
# Copyright 2026 The opencoop Authors.
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# Builds opencoop, serves it on a free local port with a fresh data folder,
# runs the browser scenarios against it in Debian's chromium — scenario.mjs,
# then every scenario_*.mjs — and stops the server. Needs `npm ci` in this
# folder once.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/opencoop-browser.XXXXXX")
server_pid=
cleanup() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
}
trap cleanup EXIT INT TERM

if [ ! -d "$here/node_modules/playwright-core" ]; then
	(cd "$here" && npm ci --no-audit --no-fund >/dev/null)
fi

(cd "$root" && go build -o "$TMP/opencoop" ./cmd/opencoop)

port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
base="http://127.0.0.1:$port"
"$TMP/opencoop" serve --addr "127.0.0.1:$port" --data "$TMP/data" >"$TMP/server.log" 2>&1 &
server_pid=$!

i=0
until curl -fsS "$base/healthz" >/dev/null 2>&1; do
	i=$((i + 1))
	if [ "$i" -ge 100 ] || ! kill -0 "$server_pid" 2>/dev/null; then
		echo "the server did not start; its log:" >&2
		cat "$TMP/server.log" >&2
		exit 1
	fi
	sleep 0.1
done

# scenario.mjs first, then every other scenario_*.mjs, each on the same
# server; a failing one does not stop the rest.
status=0
for scenario in "$here/scenario.mjs" "$here"/scenario_*.mjs; do
	[ -f "$scenario" ] || continue
	echo "== $(basename "$scenario")"
	BASE_URL="$base" OUT_DIR="$TMP" node "$scenario" || status=$?
done
if [ "$status" -ne 0 ]; then
	echo "server log: $TMP/server.log" >&2
fi
exit "$status"
