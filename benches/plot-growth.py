#!/usr/bin/env python3
"""Plot the growth curve of docs/performance.md from the log of benches/scale.sh: time and peak
memory of `dora import` and of store -> metrics against commits, on log-log axes, with a
dotted line of slope 1 (linear growth) through the smallest size for comparison.

  benches/scale.sh 1000000 10000000 100000000 2>&1 | tee scale.log
  python3 benches/plot-growth.py scale.log docs/performance-growth.png   # needs matplotlib"""
import re, statistics, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

SIZE = re.compile(r"^== (\d+) commits")
LINE = re.compile(r"^(import|store -> metrics): ([\d.]+) s, peak (\d+) KB")


def parse(path):
    runs = {}  # op -> size -> [(seconds, kb)]
    size = None
    for line in open(path):
        if m := SIZE.match(line):
            size = int(m.group(1))
        elif (m := LINE.match(line)) and size:
            runs.setdefault(m.group(1), {}).setdefault(size, []).append((float(m.group(2)), int(m.group(3))))
    return runs


def main():
    runs = parse(sys.argv[1])
    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(11, 4.2))
    for op, color in (("import", "#0072B2"), ("store -> metrics", "#D55E00")):
        sizes = sorted(runs.get(op, {}))
        if not sizes:
            continue
        secs = [statistics.median(s for s, _ in runs[op][n]) for n in sizes]
        gbs = [max(k for _, k in runs[op][n]) / 1024 / 1024 for n in sizes]
        for ax, ys in ((ax_t, secs), (ax_m, gbs)):
            ax.plot(sizes, ys, "o-", color=color, label=op)
            ax.plot(sizes, [ys[0] * n / sizes[0] for n in sizes], ":", color=color, alpha=0.6)
            for n, y in zip(sizes, ys):
                ax.annotate(f"{y:.3g}", (n, y), textcoords="offset points", xytext=(4, -12), fontsize=8)
    for ax, title, unit in ((ax_t, "Wall time (median)", "seconds"), (ax_m, "Peak memory (RSS)", "GB")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("commits")
        ax.set_ylabel(unit)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(title="dotted: linear growth", fontsize=8, title_fontsize=8)
    fig.suptitle("dora on generated data, 2 cores, 24 GB (benches/scale.sh)")
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)


if __name__ == "__main__":
    main()
