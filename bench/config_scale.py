"""Whole-process cost of `unified-connector validate` on large configuration files (issue 20,
item 5): wall time and peak RSS for files of N sources, N in --sources (10k, 50k, 200k).

For each N and each of --runs rounds:
1. Generates a config into a temp dir (also usable on its own: --write FILE --sources N):
   N synthetic sources, each one flow map of about 70 bytes, the shape of the issue's 15 MB
   file of 214,049 sources:
     - {name: s000001, protocol: synthetic, equipment: Pump, tag_count: 3}
   --tags K gives each source K explicit tags instead (a bigger file per source);
   --bad makes every source carry one unknown key (`x: 1`), so the file has N errors.
2. Runs `BINARY validate -c FILE` and takes its wall time and its peak RSS (ru_maxrss of the
   child from wait4, the kernel's own figure; no sampling).
Prints one markdown table (medians over the runs), the machine, the load average before and
after, and the exact command. A run whose exit code is not the expected one (0, or 2 with
--bad) stops the benchmark; a run longer than --timeout is killed and reported as such
(with the peak RSS it had reached), and the other rounds of that N are skipped.

usage: /usr/bin/python3 bench/config_scale.py BINARY [--sources 10000,50000,200000] [--runs 1]
           [--tags 0] [--bad] [--keep DIR] [--timeout 600]
       /usr/bin/python3 bench/config_scale.py --write FILE --sources N [--tags K] [--bad]
"""
import argparse
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

EQUIPMENT = ["Mixer", "Pump", "Oven", "Conveyor", "Filler", "Press", "Boiler", "Chiller", "Robot", "Tank"]
GENERATORS = ["sine", "ramp", "random_walk", "step", "counter", "bool", "string"]


def source_line(i, tags, bad):
    """One entry of `sources:` (a flow map, or a block with explicit tags)."""
    extra = ", x: 1" if bad else ""
    head = f"  - {{name: s{i:06d}, protocol: synthetic, equipment: {EQUIPMENT[i % len(EQUIPMENT)]}{extra}"
    if tags == 0:
        return head + ", tag_count: 3}\n"
    lines = [head + ", interval_ms: 1000, tags: ["]
    for t in range(tags):
        sep = "," if t + 1 < tags else "]}"
        lines.append(f"      {{name: t{t}, generator: {GENERATORS[t % len(GENERATORS)]}, unit: degC}}{sep}")
    return "\n".join(lines) + "\n"


def write_config(path, n, tags=0, bad=False):
    """Writes a config of n sources to path; returns its size in bytes."""
    with open(path, "w") as f:
        f.write("connector: {name: scale, log_level: warn, data_dir: ./data}\n")
        f.write("web_ui: {enabled: false}\n")
        f.write("sinks:\n  file: {enabled: true}\n")
        f.write("sources:\n")
        for i in range(n):
            f.write(source_line(i, tags, bad))
    return os.path.getsize(path)


def run_validate(binary, path, timeout):
    """(exit code, wall seconds, peak RSS in MB, output line count, output) of one validate run;
    exit code None when it was stopped (SIGKILL) after timeout seconds."""
    start = time.monotonic()
    with tempfile.TemporaryFile() as out_file:
        proc = subprocess.Popen([binary, "validate", "-c", path], stdout=out_file, stderr=subprocess.STDOUT)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        timer.cancel()
        wall = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out_file.seek(0)
        out = out_file.read()
    code = None if proc.returncode == -signal.SIGKILL else proc.returncode
    return code, wall, usage.ru_maxrss / 1024.0, out.count(b"\n"), out


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def fmt(values, digits):
    med = statistics.median(values)
    text = f"{med:.{digits}f}"
    if len(values) > 1:
        text += " (" + " · ".join(f"{v:.{digits}f}" for v in values) + ")"
    return text


def benchmark(args):
    counts = [int(x) for x in args.sources.split(",")]
    wd = args.keep or tempfile.mkdtemp(prefix="uc_config_scale_")
    os.makedirs(wd, exist_ok=True)
    load_before = os.getloadavg()
    rows = []
    try:
        for n in counts:
            path = os.path.join(wd, f"sources_{n}.yaml")
            size = write_config(path, n, args.tags, args.bad)
            walls, rss, lines, stopped = [], [], 0, False
            for _ in range(args.runs):
                code, wall, peak, lines, out = run_validate(args.binary, path, args.timeout)
                if code is None:
                    walls.append(wall)
                    rss.append(peak)
                    stopped = True
                    break
                if code != (2 if args.bad else 0):
                    sys.stderr.write(out[-2000:].decode(errors="replace"))
                    sys.exit(f"validate exited {code} on {path}")
                walls.append(wall)
                rss.append(peak)
            rows.append((n, size, walls, rss, lines, stopped))
            print(f"  {n} sources: {fmt(walls, 2)} s, {fmt(rss, 1)} MB{' (stopped)' if stopped else ''}",
                  file=sys.stderr)
    finally:
        if not args.keep:
            shutil.rmtree(wd, ignore_errors=True)
    load_after = os.getloadavg()
    print(f"command: /usr/bin/python3 {shlex.join(sys.argv)}")
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, {platform.platform()}")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    print()
    print("| sources | file | validate wall (s) | peak RSS (MB) | output lines |")
    print("|---|---|---|---|---|")
    for n, size, walls, rss, lines, stopped in rows:
        if stopped:
            print(f"| {n:,} | {size / 1e6:.1f} MB | > {walls[-1]:.0f} (stopped) | > {rss[-1]:.1f} (so far) | – |")
        else:
            print(f"| {n:,} | {size / 1e6:.1f} MB | {fmt(walls, 2)} | {fmt(rss, 1)} | {lines:,} |")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("binary", nargs="?")
    p.add_argument("--sources", default="10000,50000,200000")
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--tags", type=int, default=0, help="explicit tags per source (0: tag_count: 3)")
    p.add_argument("--bad", action="store_true", help="one unknown key per source (N errors)")
    p.add_argument("--keep", help="write the generated files here and keep them")
    p.add_argument("--timeout", type=float, default=600, help="stop a validate run after this many seconds")
    p.add_argument("--write", help="only write a config of --sources sources to this file")
    args = p.parse_args()
    if args.write:
        size = write_config(args.write, int(args.sources), args.tags, args.bad)
        print(f"{args.write}: {int(args.sources):,} sources, {size:,} bytes")
        return
    if not args.binary:
        p.error("BINARY is required unless --write is given")
    benchmark(args)


if __name__ == "__main__":
    main()
