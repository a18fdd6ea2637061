#!/usr/bin/env bash
# Before/after whole-process benchmarks of two connector binaries, one after the other on the
# same machine (issue 13's proof): for each benchmark the BEFORE binary, then the AFTER binary,
# then the next benchmark, so that drift in the machine's load hits both alike.
#   1. bench/opcua_load.py   --server simulator --items 100000 (per-value CPU, RSS; node-opcua
#                            client as the peer, run by the script too)
#   2. bench/modbus_load.py  issue 18's load: 10 units x 1,000 registers every 100 ms, spool on,
#                            from our simulator (issue 18 used a pymodbus server; the script has
#                            our simulator only)
#   3. bench/whole_process.py synthetic, 1,000 tags as fast as accepted -> file sink (spool off)
#   4. bench/source_scale.py  threads, RSS, idle CPU at 1/50/500 sources, synthetic and opcua
# About 20 minutes in all at the default sizes; --quick runs tiny sizes (about 3 minutes) to
# check that every command works.
#
# usage: bench/before_after.sh BEFORE_BINARY AFTER_BINARY [--out DIR] [--quick]
# Every output goes to the terminal and to DIR/<n>-<benchmark>-<before|after>.txt (default
# DIR: /tmp/uc-before-after-<date>); DIR/summary.txt lists each step with the load average at
# its start. A step that fails is reported and the others still run; the exit code is 1 then.
# Needs node-opcua in tests/interop/opcua-js/node_modules (`bash scripts/install-deps.sh`)
# and python3-pymodbus (Debian), as the scripts it runs do.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
OUT=/tmp/uc-before-after-$(date -u +%Y%m%dT%H%M%SZ)
QUICK=0
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --quick) QUICK=1; shift ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
[ ${#ARGS[@]} -eq 2 ] || { echo "usage: $0 BEFORE_BINARY AFTER_BINARY [--out DIR] [--quick]" >&2; exit 2; }
BEFORE=$(realpath "${ARGS[0]}")
AFTER=$(realpath "${ARGS[1]}")
for b in "$BEFORE" "$AFTER"; do
  [ -x "$b" ] || { echo "not an executable: $b" >&2; exit 2; }
done
[ -d "$HERE/../tests/interop/opcua-js/node_modules/node-opcua" ] ||
  { echo "node-opcua missing in tests/interop/opcua-js/node_modules (bash scripts/install-deps.sh)" >&2; exit 2; }

if [ $QUICK -eq 1 ]; then
  OPCUA=(--server simulator --items 1000 --seconds 2 --runs 1)
  MODBUS=(--devices 2 --registers 1000 --poll-ms 100 --spool --seconds 2 --runs 1)
  WHOLE=(--tags 100 --seconds 2 --runs 1)
  SCALE=(--kind both --sources 1,5 --warmup 1 --seconds 3 --runs 1)
else
  OPCUA=(--server simulator --items 100000 --seconds 10 --runs 2)
  MODBUS=(--devices 10 --registers 1000 --poll-ms 100 --spool --seconds 10 --runs 2)
  WHOLE=(--tags 1000 --seconds 8 --runs 3)
  SCALE=(--kind both --sources 1,50,500 --warmup 5 --seconds 20 --runs 1)
fi

mkdir -p "$OUT"
SUMMARY=$OUT/summary.txt
{
  echo "before: $BEFORE"
  echo "after:  $AFTER"
  echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores," \
       "$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), kernel $(uname -r)"
  echo "started: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$SUMMARY"

FAILED=0
STEP=0
# run NAME SCRIPT ARGS...: the script against BEFORE, then AFTER.
run() {
  local name=$1 script=$2
  shift 2
  STEP=$((STEP + 1))
  for which in before after; do
    local bin=$BEFORE
    [ $which = after ] && bin=$AFTER
    local file="$OUT/$STEP-$name-$which.txt"
    local cmd=("$PY" "$HERE/$script" "$bin" "$@")
    local start=$SECONDS
    echo
    echo "== $STEP $name $which: ${cmd[*]}"
    echo "   $(date -u '+%H:%M:%S UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    { echo "command: ${cmd[*]}"; echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"; } > "$file"
    if "${cmd[@]}" 2>&1 | tee -a "$file"; then
      echo "$STEP $name $which: ok in $((SECONDS - start)) s (load at start in $file)" >> "$SUMMARY"
    else
      echo "$STEP $name $which: FAILED after $((SECONDS - start)) s, see $file" | tee -a "$SUMMARY"
      FAILED=1
    fi
  done
}

run opcua_load opcua_load.py "${OPCUA[@]}"
run modbus_load modbus_load.py "${MODBUS[@]}"
run whole_process whole_process.py "${WHOLE[@]}"
run source_scale source_scale.py "${SCALE[@]}"

echo "finished: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$SUMMARY"
echo "outputs in $OUT"
exit $FAILED
