#!/usr/bin/env bash
# Imports at scale: the real `consent-ledger serve` (embedded log) and the
# real `consent-ledger import`, on generated files of --rows rows (1,000,000
# by default): a SendGrid unsubscribes export and a TPS full file, each
# imported twice (the second run must append nothing new to what the view
# has). Prints the wall time, rows per second and each run's summary.
#
#   bash scripts/bench-imports.sh                   1,000,000 rows per file
#   bash scripts/bench-imports.sh --rows 20000      smaller
#   BIN=target/debug/consent-ledger bash scripts/bench-imports.sh   a binary already built
#
# The figures go to docs/PERFORMANCE.md ("Imports") by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

rows=1000000 batch=500
while [[ $# -gt 0 ]]; do
    case "$1" in
        --rows) rows=$2; shift 2 ;;
        --batch) batch=$2; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done

if [[ -z "${BIN:-}" ]]; then
    cargo build --release --locked -p consent-cli
    BIN="${CARGO_TARGET_DIR:-target}/release/consent-ledger"
fi

work=$(mktemp -d /tmp/consent-bench-imports.XXXXXX)
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# The files: unique addresses, and unique valid UK mobile numbers
# (07400 000000 upwards), as the TPS full file writes them (CRLF).
awk -v n="$rows" 'BEGIN { print "email,created"; for (i = 0; i < n; i++) printf "person%d@example.com,%d\n", i, 1767225600 + i }' > "$work/unsubscribes.csv"
awk -v n="$rows" 'BEGIN { for (i = 0; i < n; i++) printf "07%03d %06d\r\n", 400 + int(i / 1000000), i % 1000000 }' > "$work/tps.txt"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
server="http://127.0.0.1:$port"
"$BIN" serve --data-dir "$work/data" --listen "127.0.0.1:$port" > "$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
    curl -fsS "$server/healthz" >/dev/null 2>&1 && break
    sleep 0.2
done

timed() {
    local name=$1; shift
    local start end
    start=$(date +%s.%N)
    "$BIN" "$@" --server "$server" --batch "$batch" > "$work/out.txt" 2>&1 || true
    end=$(date +%s.%N)
    local seconds
    seconds=$(echo "$end - $start" | bc)
    printf '| %s | %s | %.1f s | %.0f rows/s | %s |\n' "$name" "$rows" "$seconds" "$(echo "$rows / $seconds" | bc -l)" \
        "$(grep ' appended, ' "$work/out.txt" | head -1)"
}

echo "| run | rows | wall time | rate | summary |"
echo "|---|---|---|---|---|"
timed "suppressions, first run" import suppressions --organisation bench "$work/unsubscribes.csv"
timed "suppressions, second run" import suppressions --organisation bench "$work/unsubscribes.csv"
timed "TPS full file, first run" import tps --organisation bench --service tps --full --taken-at 2026-03-01 "$work/tps.txt"
timed "TPS full file, second run" import tps --organisation bench --service tps --full --taken-at 2026-03-01 "$work/tps.txt"
