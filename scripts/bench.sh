#!/usr/bin/env bash
# The measured-performance suite, end to end: starts a throwaway PostgreSQL
# cluster (installing PostgreSQL from Debian's packages if it is missing)
# for the peer benchmark, builds consent-bench, runs every benchmark and
# writes docs/PERFORMANCE.md (and target/bench.json).
#
#   bash scripts/bench.sh                     full: 1,000,000 subjects, 10,000,000 events
#   bash scripts/bench.sh --smoke             tiny sizes, seconds
#   bash scripts/bench.sh --only webhook      only an ESP webhook's latency to a refused check
#   bash scripts/bench.sh --subjects 100000 --events 1000000   any size
#
# Every argument is passed to consent-bench (`consent-bench --help`).
# Kafka benchmarks use the tansu test broker (installed by
# .ci/install-tansu.sh when missing); pass --no-kafka to skip them.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

find_pg_bin() {
    local initdb
    initdb=$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -1 || true)
    if [[ -n "$initdb" ]]; then dirname "$initdb"; fi
}

pg_bin=$(find_pg_bin)
if [[ -z "$pg_bin" ]]; then
    echo "installing PostgreSQL from the Debian packages" >&2
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
    pg_bin=$(find_pg_bin)
fi
if ! command -v tansu >/dev/null 2>&1 && [[ ! " $* " =~ " --no-kafka " ]]; then
    bash .ci/install-tansu.sh
fi

# A throwaway cluster in a temporary directory, on a Unix socket only.
# initdb refuses to run as root: then the cluster belongs to `postgres`.
pg_dir=$(mktemp -d /tmp/consent-bench-pg.XXXXXX)
chmod 755 "$pg_dir"
run_pg() { "$@"; }
if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$pg_dir"
    run_pg() { runuser -u postgres -- "$@"; }
fi
pg_port=55432
stop_pg() {
    run_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
}
trap stop_pg EXIT
run_pg "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U bench --no-sync >/dev/null
run_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w start \
    -o "-k $pg_dir -c listen_addresses='' -p $pg_port -c fsync=off -c shared_buffers=1GB -c max_connections=100" >/dev/null
run_pg "$pg_bin/createdb" -h "$pg_dir" -p "$pg_port" -U bench bench
export CONSENT_BENCH_POSTGRES="host=$pg_dir port=$pg_port user=bench dbname=bench"

cargo build --release --locked -p consent-bench -p consent-cli
./target/release/consent-bench "$@" \
    --json target/bench.json \
    --report docs/PERFORMANCE.md \
    --analysis bench/analysis.md \
    --command "bash scripts/bench.sh${*:+ $*}" >/dev/null
echo "wrote docs/PERFORMANCE.md and target/bench.json" >&2
