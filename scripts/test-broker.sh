#!/usr/bin/env bash
# Runs a tansu Kafka-protocol broker on loopback for local and CI testing.
#
#   scripts/test-broker.sh start [DIR]   start a broker whose sqlite database
#                                        and log live in DIR (default
#                                        target/test-broker); prints the
#                                        bootstrap address, e.g. 127.0.0.1:41234
#   scripts/test-broker.sh stop [DIR]    stop the broker started in DIR
#
#   TEST_BROKER_PORT   port to listen on (default: a free port)
#   CONSENT_TANSU_BIN  tansu binary (default: tansu on PATH, else ~/.cargo/bin)
#
# The broker does not auto-create topics (the ledger creates its own) and has
# no transactions. Install it with .ci/install-tansu.sh.
set -euo pipefail

command="${1:-}"
dir="${2:-target/test-broker}"

find_tansu() {
    if [[ -n "${CONSENT_TANSU_BIN:-}" ]]; then
        echo "$CONSENT_TANSU_BIN"
    elif command -v tansu >/dev/null 2>&1; then
        command -v tansu
    elif [[ -x "${CARGO_HOME:-$HOME/.cargo}/bin/tansu" ]]; then
        echo "${CARGO_HOME:-$HOME/.cargo}/bin/tansu"
    else
        echo "tansu is not installed: run .ci/install-tansu.sh (or set CONSENT_TANSU_BIN)" >&2
        exit 1
    fi
}

listening() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
    local port
    for _ in $(seq 1 100); do
        port=$((20000 + RANDOM % 40000))
        if ! listening "$port"; then
            echo "$port"
            return 0
        fi
    done
    echo "no free loopback port found" >&2
    return 1
}

start() {
    mkdir -p "$dir"
    if [[ -f "$dir/tansu.pid" ]] && kill -0 "$(cat "$dir/tansu.pid")" 2>/dev/null; then
        echo "a broker is already running from $dir (pid $(cat "$dir/tansu.pid"))" >&2
        exit 1
    fi
    local tansu port url pid
    tansu="$(find_tansu)"
    port="${TEST_BROKER_PORT:-$(free_port)}"
    url="tcp://127.0.0.1:$port"
    (
        cd "$dir"
        exec "$tansu" broker \
            --listener-url "$url" \
            --advertised-listener-url "$url" \
            --storage-engine "sqlite://tansu.db"
    ) >>"$dir/tansu.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$dir/tansu.pid"
    echo "127.0.0.1:$port" >"$dir/bootstrap"

    for _ in $(seq 1 300); do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "tansu exited before accepting connections; its log:" >&2
            tail -n 40 "$dir/tansu.log" >&2
            rm -f "$dir/tansu.pid"
            exit 1
        fi
        if listening "$port"; then
            echo "127.0.0.1:$port"
            return 0
        fi
        sleep 0.1
    done
    echo "tansu did not accept connections on 127.0.0.1:$port within 30 s" >&2
    kill "$pid" 2>/dev/null || true
    rm -f "$dir/tansu.pid"
    exit 1
}

stop() {
    if [[ ! -f "$dir/tansu.pid" ]]; then
        echo "no broker running from $dir"
        return 0
    fi
    local pid
    pid="$(cat "$dir/tansu.pid")"
    if kill "$pid" 2>/dev/null; then
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/tansu.pid"
    echo "stopped the broker from $dir"
}

case "$command" in
    start) start ;;
    stop) stop ;;
    *)
        echo "usage: $0 start|stop [DIR]" >&2
        exit 2
        ;;
esac
