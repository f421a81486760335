#!/usr/bin/env bash
# Profiles the bare-mediasoup load test's worker with perf (software clock
# samples, DWARF stacks: this VM has no hardware counters) at one step of a
# scenario, then sorts the samples into the parts of a forwarded packet's cost
# (buckets.mjs). Prints the load test's step line and the table. Bounded: one
# step, a 20 s window, 8 s of samples. docs/engine.md.
#   flock /tmp/switchyard-heavy.lock bash scripts/profile/record.sh [STEP_SIZE=300] [SCENARIO=broadcast]
set -euo pipefail
cd "$(dirname "$0")/../.."
step=${1:-300}
scenario=${2:-broadcast}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
npm run --silent loadtest -- --bare --scenario "$scenario" --step-size "$step" --max-steps 1 \
	--settle-seconds 3 --window-seconds 20 --worker-core 0 --generator-core 1 > "$out/load.log" 2>&1 &
load=$!
for _ in $(seq 60); do
	pid=$(sed -n 's/.*worker pids \([0-9]*\).*/\1/p' "$out/load.log")
	[ -n "$pid" ] && break
	sleep 0.5
done
[ -n "$pid" ] || { cat "$out/load.log"; exit 1; }
sleep 8 # the peers join, the step settles
perf record -q -e cpu-clock -F 2000 --call-graph dwarf,16384 -p "$pid" -o "$out/perf.data" -- sleep 8 2>/dev/null
wait "$load"
grep -E '^(target|step)' "$out/load.log"
us=$(sed -n 's/.* \([0-9.]*\) µs\/pkt.*/\1/p' "$out/load.log" | head -1)
perf script -i "$out/perf.data" -F comm,tid,ip,sym,dso 2>/dev/null | node scripts/profile/buckets.mjs --us-per-packet "$us"
