#!/usr/bin/env bash
# Memory soak: the real `consent-ledger serve` (embedded log) under steady
# appends and checks for a number of minutes, its resident memory (VmRSS from
# /proc) sampled every few seconds. Prints a table and the maximum, and exits
# non-zero when the maximum exceeds the bound the memory settings give
# (docs/OPERATIONS.md, "Memory"):
#
#   bound = 3 x view_cache_mib + 4 x state_cache_mib + log_index_mib + overhead_mib
#
#   bash scripts/soak.sh                                  5 minutes, small settings
#   bash scripts/soak.sh --minutes 30 --view-cache-mib 256 --state-cache-mib 48
#   BIN=target/debug/consent-ledger bash scripts/soak.sh  a binary already built
#
# Options: --minutes N (5), --sample-secs N (5), --view-cache-mib N (64),
# --state-cache-mib N (16), --log-index-mib N (4), --overhead-mib N (200),
# --batch N events per append and checks per batch check (100).
# Traffic goes to a loopback port only; the loop stops by itself at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=5 sample_secs=5 view_cache=64 state_cache=16 log_index=4 overhead=200 batch=100
while [[ $# -gt 0 ]]; do
    case "$1" in
        --minutes) minutes=$2; shift 2 ;;
        --sample-secs) sample_secs=$2; shift 2 ;;
        --view-cache-mib) view_cache=$2; shift 2 ;;
        --state-cache-mib) state_cache=$2; shift 2 ;;
        --log-index-mib) log_index=$2; shift 2 ;;
        --overhead-mib) overhead=$2; shift 2 ;;
        --batch) batch=$2; shift 2 ;;
        *) echo "unknown option $1 (see the head of $0)" >&2; exit 2 ;;
    esac
done
command -v curl >/dev/null || { echo "soak.sh needs curl" >&2; exit 2; }

if [[ -z "${BIN:-}" ]]; then
    cargo build --release --locked -p consent-cli
    BIN="${CARGO_TARGET_DIR:-target}/release/consent-ledger"
fi
bound=$((3 * view_cache + 4 * state_cache + log_index + overhead))

work=$(mktemp -d /tmp/consent-soak.XXXXXX)
port=$((20000 + RANDOM % 20000))
base="http://127.0.0.1:$port"
"$BIN" serve --data-dir "$work/data" --listen "127.0.0.1:$port" \
    --view-cache-mib "$view_cache" --state-cache-mib "$state_cache" --log-index-mib "$log_index" \
    >"$work/serve.out" 2>&1 &
pid=$!
cleanup() {
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

for _ in $(seq 1 300); do
    curl -fs "$base/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fs "$base/healthz" >/dev/null || { cat "$work/serve.out" >&2; echo "serve did not start" >&2; exit 1; }

post() { curl -fsS -o /dev/null -H 'content-type: application/json' --data-binary "@$2" "$base$1"; }

cat >"$work/org.json" <<'EOF'
{"events": [
 {"organisationId": "soak-org", "occurredAt": "2024-01-01T00:00:00Z",
  "organisationRegistered": {"name": "Soak Ltd", "kind": "ORGANISATION_KIND_COMMERCIAL"}},
 {"organisationId": "soak-org", "occurredAt": "2024-01-01T00:00:00Z",
  "productCategoriesDefined": {"categories": [{"id": "bikes", "name": "Bicycles"}]}}]}
EOF
post /v1/events "$work/org.json"

# One round: `batch` sales of new subjects, then a batch check of `batch`
# subjects seen so far.
round_files() {
    local round=$1 i subject
    {
        printf '{"events": ['
        for ((i = 0; i < batch; i++)); do
            subject="s-$round-$i"
            [[ $i -gt 0 ]] && printf ','
            printf '{"organisationId":"soak-org","subjectId":"%s","occurredAt":"2025-03-01T12:00:00Z","source":{"system":"soak"},"saleRecorded":{"productCategoryId":"bikes","collection":{"route":"COLLECTION_ROUTE_DIRECT","optOutOffered":true}}}' "$subject"
        done
        printf ']}'
    } >"$work/append.json"
    {
        printf '{"checks": ['
        for ((i = 0; i < batch; i++)); do
            subject="s-$((RANDOM % (round + 1)))-$((RANDOM % batch))"
            [[ $i -gt 0 ]] && printf ','
            printf '{"organisationId":"soak-org","subjectId":"%s","channel":"CHANNEL_EMAIL","purpose":"PURPOSE_COMMERCIAL","productCategoryId":"bikes","messageClass":"MESSAGE_CLASS_MARKETING","promotionalContent":true,"optOutIncluded":true,"senderIdentified":true,"at":"2026-06-01T09:00:00Z"}' "$subject"
        done
        printf ']}'
    } >"$work/check.json"
}

rss_mib() { awk '/^VmRSS:/ { printf "%d", $2 / 1024 }' "/proc/$pid/status"; }

end=$((SECONDS + minutes * 60))
next_sample=$SECONDS
round=0 events=0 checks=0 max=0 failures=0
printf '%8s %10s %10s %9s\n' "seconds" "events" "checks" "rss_mib"
while ((SECONDS < end)); do
    if ((SECONDS >= next_sample)); then
        rss=$(rss_mib)
        ((rss > max)) && max=$rss
        printf '%8d %10d %10d %9d\n' "$SECONDS" "$events" "$checks" "$rss"
        next_sample=$((SECONDS + sample_secs))
    fi
    round_files "$round"
    if post /v1/events "$work/append.json"; then events=$((events + batch)); else failures=$((failures + 1)); fi
    if post /v1/checks:batch "$work/check.json"; then checks=$((checks + batch)); else failures=$((failures + 1)); fi
    round=$((round + 1))
done
rss=$(rss_mib)
((rss > max)) && max=$rss
printf '%8d %10d %10d %9d\n' "$SECONDS" "$events" "$checks" "$rss"

echo
echo "settings: view_cache_mib=$view_cache state_cache_mib=$state_cache log_index_mib=$log_index"
echo "bound: 3 x $view_cache + 4 x $state_cache + $log_index + $overhead (overhead) = $bound MiB"
echo "max RSS: $max MiB over $minutes min; $events events appended, $checks checks, $failures failed requests"
if ((failures > 0)); then
    tail -20 "$work/serve.out" >&2
    echo "FAIL: $failures requests failed" >&2
    exit 1
fi
if ((max > bound)); then
    echo "FAIL: max RSS $max MiB exceeds the bound $bound MiB" >&2
    exit 1
fi
echo "OK: max RSS within the bound"
