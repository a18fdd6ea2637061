#!/usr/bin/env bash
# Disk spool append throughput side by side with dd writing the same bytes, in the same
# block size (one spool batch = 1,000 frames = one write), with the same syncing, on the
# same disk (issue 6):
#   spool fsync batch    <->  dd oflag=dsync     (every write synced)
#   spool fsync interval <->  dd conv=fdatasync  (synced once at the end; the spool syncs every 1 s)
#   spool fsync never    <->  dd                 (no sync)
# and, with --recovery, the time to open (recover) a 1 GB spool, warm and cold page cache.
#
# usage: bench/spool_vs_dd.sh [--bench build/bench/spool_bench] [--dir /var/tmp] [--reps 5] [--recovery]
# Files are created under --dir (default $SPOOL_BENCH_DIR or /var/tmp) and deleted afterwards.
set -euo pipefail

BENCH=build/bench/spool_bench
DIR=${SPOOL_BENCH_DIR:-/var/tmp}
REPS=5
RECOVERY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --bench) BENCH=$2; shift 2 ;;
    --dir) DIR=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --recovery) RECOVERY=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$BENCH" ] || { echo "no benchmark binary at $BENCH (build it: cmake --build build --target spool_bench)" >&2; exit 2; }

WORK=$(mktemp -d "$DIR/uc-spool-vs-dd-XXXXXX")
trap 'rm -rf "$WORK"' EXIT

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, kernel $(uname -r)"
echo "disk:    $(df -h "$DIR" | awk 'NR==2 {print $1 " mounted on " $6 ", " $2}')"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg)"
echo

SPOOL_BENCH_DIR="$WORK" "$BENCH" --benchmark_filter='BM_Append|BM_Read' --benchmark_min_time=1 \
  --benchmark_repetitions="$REPS" --benchmark_report_aggregates_only=true \
  --benchmark_format=json > "$WORK/spool.json" 2> "$WORK/spool.err" || { cat "$WORK/spool.err" >&2; exit 1; }

python3 - "$WORK" "$REPS" <<'EOF'
import json, subprocess, statistics, sys, time, os
work, reps = sys.argv[1], int(sys.argv[2])
data = json.load(open(f"{work}/spool.json"))
med = {b["run_name"]: b for b in data["benchmarks"] if b.get("aggregate_name") == "median"}
policies = {0: ("batch", "oflag=dsync"), 1: ("interval", "conv=fdatasync"), 2: ("never", "(no sync)")}

def dd(block, count, flag):
    args = ["dd", "if=/dev/zero", f"of={work}/dd.out", f"bs={block}", f"count={count}", "status=none"]
    if flag != "(no sync)":
        args.append(flag)
    runs = []
    for _ in range(reps):
        if os.path.exists(f"{work}/dd.out"):
            os.remove(f"{work}/dd.out")
        t = time.perf_counter()
        subprocess.run(args, check=True)
        runs.append(block * count / (time.perf_counter() - t))
    os.remove(f"{work}/dd.out")
    return statistics.median(runs)

print("| record | fsync policy | spool MB/s | spool records/s | dd (same block, same sync) | dd MB/s | spool / dd |")
print("|---|---|---|---|---|---|---|")
for size in (200, 4096):
    block = 1000 * (size + 16)
    for p, (name, flag) in policies.items():
        b = med[f"BM_Append/bytes:{size}/policy:{p}/real_time"]
        mbs = b["bytes_per_second"] / 1e6
        rps = b["items_per_second"]
        total = (64 << 20) if p == 0 else (512 << 20)
        count = max(4, total // block)
        d = dd(block, count, flag) / 1e6
        print(f"| {size} B | {name} | {mbs:,.0f} | {rps:,.0f} | dd bs={block} count={count} {flag} | {d:,.0f} | {mbs / d:.2f} |")
print()
print("| read (batches of 1,000, then ack) | MB/s | records/s |")
print("|---|---|---|")
for size in (200, 4096):
    b = med[f"BM_Read/bytes:{size}/real_time"]
    print(f"| {size} B records | {b['bytes_per_second'] / 1e6:,.0f} | {b['items_per_second']:,.0f} |")
EOF

if [ "$RECOVERY" = 1 ]; then
  echo
  SPOOL_BENCH_DIR="$WORK" "$BENCH" --benchmark_filter='BM_Recovery1GB' --benchmark_format=json \
    > "$WORK/recovery.json" 2> "$WORK/recovery.err" || { cat "$WORK/recovery.err" >&2; exit 1; }
  python3 - "$WORK" <<'EOF'
import json, sys
data = json.load(open(f"{sys.argv[1]}/recovery.json"))
print("| recovery of a 1 GB spool (4 KiB records) | time (mean of 3 opens) | scan rate |")
print("|---|---|---|")
for b in data["benchmarks"]:
    print(f"| {b['label']} ({b['records']:,.0f} records, {b['spool_MB']:,.0f} MB) | {b['real_time'] / 1000:.2f} s | {b['bytes_per_second'] / 1e6:,.0f} MB/s |")
EOF
fi
