#!/usr/bin/python3
"""Latency percentiles from pgbench per-transaction logs (pgbench -l).

usage: latency.py PREFIX [SKIP_SECONDS]

Reads every log PREFIX.<pid>[.<thread>] and prints "count p50_ms p99_ms"
(nearest-rank percentiles of the third field, the latency in microseconds).
Transactions that started in the first SKIP_SECONDS of the run (default 0)
are left out.  Lines of failed transactions ("failed", "skipped") are ignored.
"""
import glob
import math
import sys


def main():
    prefix = sys.argv[1]
    skip = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    rows = []
    for path in glob.glob(glob.escape(prefix) + ".*"):
        if path.endswith(".out"):
            continue
        with open(path) as f:
            for line in f:
                fields = line.split()
                if len(fields) < 6 or not fields[2].isdigit():
                    continue
                end = int(fields[4]) + int(fields[5]) / 1e6
                rows.append((end - int(fields[2]) / 1e6, int(fields[2])))
    if not rows:
        print("0 - -")
        return
    start = min(r[0] for r in rows) + skip
    lat = sorted(r[1] for r in rows if r[0] >= start)

    def pct(p):
        return lat[max(0, math.ceil(p / 100.0 * len(lat)) - 1)] / 1000.0

    print("%d %.3f %.3f" % (len(lat), pct(50), pct(99)))


if __name__ == "__main__":
    main()
