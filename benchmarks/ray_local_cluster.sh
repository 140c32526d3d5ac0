#!/usr/bin/env bash
# A two-node Ray cluster on this machine, for trying `executor="ray"` (lexiconlm.executors.map_jobs)
# the way it runs on a real cluster: start a head node and a second node, run a command with
# RAY_ADDRESS pointing at the head, print `ray status`, stop both nodes (also on Ctrl-C or error).
#
# Usage:
#   bash benchmarks/ray_local_cluster.sh COMMAND [ARGS...]
# e.g.
#   bash benchmarks/ray_local_cluster.sh python -c 'import ray; ray.init(address="auto"); print(ray.nodes())'
#   bash benchmarks/ray_local_cluster.sh lexiconlm expand --config configs/expand/tiny.yaml \
#       --langs ind,swh --executor ray --address auto
# (both nodes share this machine's disk, so run folders written by tasks are where a local run puts them)
#
# Settings (environment): RAY_PORT (GCS port of the head, default 6380), RAY_NODE_CPUS (CPUs
# each node offers, default 1), RAY_KEEP_TMP=1 (keep the nodes' temp folders, with their logs).
#
# Each node runs `ray start --block` in the background with its own temp folder and agent
# ports, so this script stops exactly the two nodes it started (never `ray stop`, which stops
# every Ray node of the machine). Needs `pip install 'lexiconlm[scale]'`. Exits with the
# command's exit status.
set -euo pipefail

if [ "$#" -eq 0 ]; then
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
command -v ray >/dev/null || { echo "ray is not installed: pip install 'lexiconlm[scale]'" >&2; exit 1; }

port="${RAY_PORT:-6380}"
cpus="${RAY_NODE_CPUS:-1}"
head="127.0.0.1:${port}"
# a short path: Ray's unix sockets live under it and may not exceed ~107 characters
base="$(mktemp -d /tmp/lexray.XXXXXX)"
pids=()
cmd_pid=""
# token authentication (Ray's default for `ray start`) with a token of this cluster only, kept
# in its temp folder: nodes, the command and `ray status` all read it from there
python -c 'import secrets; print(secrets.token_hex(32))' >"$base/auth_token"
chmod 600 "$base/auth_token"
export RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH="$base/auth_token"

stop_cluster() {
    local pid
    if [ -n "$cmd_pid" ] && kill -0 "$cmd_pid" 2>/dev/null; then  # interrupted: the command first
        kill -TERM "$cmd_pid" 2>/dev/null || true
        wait "$cmd_pid" 2>/dev/null || true
    fi
    # the second node first, then the head; each `ray start --block` stops its own processes on SIGTERM
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        pid="${pids[i]}"
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 30); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ "${RAY_KEEP_TMP:-0}" = "1" ]; then
        echo "ray_local_cluster: node folders (logs) kept in $base" >&2
    else
        rm -rf "$base"
    fi
}
trap stop_cluster EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

common=(--block --num-cpus "$cpus" --disable-usage-stats)

echo "ray_local_cluster: head node on $head ($cpus CPU), temp $base/head" >&2
ray start --head --port "$port" --temp-dir "$base/head" --include-dashboard false \
    --dashboard-agent-listen-port 52371 "${common[@]}" >"$base/head.log" 2>&1 &
pids+=("$!")

wait_for_nodes() {  # until `ray status` lists $1 active nodes (2 minutes at most)
    local want="$1" deadline=$((SECONDS + 120)) n
    while [ "$SECONDS" -lt "$deadline" ]; do
        for log in head node2; do  # a node that stopped: say why
            i=$([ "$log" = head ] && echo 0 || echo 1)
            if [ "$i" -lt "${#pids[@]}" ] && ! kill -0 "${pids[i]}" 2>/dev/null; then
                echo "ray_local_cluster: the $log node stopped; its log:" >&2
                cat "$base/$log.log" >&2
                return 1
            fi
        done
        # the autoscaler's view (what `ray status` prints), which lags a node's start by a second or two
        n="$(timeout 30 ray status --address "$head" 2>/dev/null | sed -n '/^Active:/,/^Pending:/p' | grep -c ' node_' || true)"
        [ "$n" -ge "$want" ] && return 0
        sleep 1
    done
    echo "ray_local_cluster: $want node(s) not up after 2 minutes; logs in $base/*.log" >&2
    RAY_KEEP_TMP=1
    return 1
}

wait_for_nodes 1
echo "ray_local_cluster: second node ($cpus CPU), temp $base/node2" >&2
ray start --address "$head" --temp-dir "$base/node2" \
    --dashboard-agent-listen-port 52372 "${common[@]}" >"$base/node2.log" 2>&1 &
pids+=("$!")
wait_for_nodes 2

export RAY_ADDRESS="$head"
ray status --address "$head"
echo "ray_local_cluster: running: $*" >&2
# in the background so that a TERM or Ctrl-C reaches the traps while it runs
"$@" <&0 &
cmd_pid=$!
set +e
wait "$cmd_pid"
rc=$?
set -e
cmd_pid=""
ray status --address "$head"  # a snapshot refreshed every few seconds: may still show the last tasks
exit "$rc"
