#!/usr/bin/env bash
# Runs every benchmark of the foundation and prints the figures BENCHMARKS.md records.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== machine"; nproc; grep -m1 "model name" /proc/cpuinfo || true; uname -r
echo "== microbenchmarks (Google Benchmark)"
build/bench/pipeline_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_min_time=1
echo "== whole process"
/usr/bin/python3 bench/whole_process.py build/src/app/unified-connector --tags 1000 --seconds 10 --runs 3
echo "== Sparkplug B decode (issue 4): ours, then Tahu sparkplug-payload on the same payload"
build/bench/sparkplug_bench --write-payload /tmp/uc_ddata100.bin
build/bench/sparkplug_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
node bench/sparkplug_decode_node.js /tmp/uc_ddata100.bin 3 5
echo "== whole process: simulator -> mosquitto -> connector -> file sink"
/usr/bin/python3 bench/mqtt_whole_process.py "$PWD/build/src/app/unified-connector" --devices 10 --seconds 10 --runs 3
