#!/usr/bin/env python3
"""Generates a git repository with N commits for `dora collect git` benchmarks.

History: a main line where every 10th change is a merge of a 3-commit feature branch, and a
release tag every 200 commits (every other one annotated). Dates advance 5-60 minutes per
commit from 2015-01-01, seeded, so the repository is the same on every run.

    python3 benches/gen-git.py /tmp/repo-100k --commits 100000
"""
import argparse
import os
import random
import subprocess


def main():
    p = argparse.ArgumentParser()
    p.add_argument("path")
    p.add_argument("--commits", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    rnd = random.Random(a.seed)
    os.makedirs(a.path, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", a.path], check=True)
    t = 1420070400
    out = []
    mark = 0
    main_tip = None
    made = 0
    release = 0
    authors = [f"dev{i}" for i in range(40)]

    def commit(branch, parents, msg):
        nonlocal mark, t
        mark += 1
        t += rnd.randint(300, 3600)
        who = rnd.choice(authors)
        out.append(f"commit refs/heads/{branch}\nmark :{mark}\n")
        out.append(f"author {who} <{who}@example.com> {t} +0000\n")
        out.append(f"committer {who} <{who}@example.com> {t} +0000\n")
        data = msg.encode()
        out.append(f"data {len(data)}\n{msg}\n")
        if parents:
            out.append(f"from :{parents[0]}\n")
            for q in parents[1:]:
                out.append(f"merge :{q}\n")
        out.append(f"M 644 inline file{mark % 50}.txt\ndata 8\n{mark:07d}\n\n")
        return mark

    while made < a.commits:
        if made % 10 == 9 and main_tip:
            base = main_tip
            for k in range(3):
                base = commit("feature", [base], f"feature work {made}-{k}")
                made += 1
            main_tip = commit("main", [main_tip, base], f"Merge feature {made}")
        else:
            main_tip = commit("main", [main_tip] if main_tip else [], f"change {made}")
        made += 1
        if made // 200 > release:
            release = made // 200
            name = f"v1.{release // 100}.{release % 100}"
            if release % 2:
                out.append(f"tag {name}\nfrom :{main_tip}\ntagger rel <rel@example.com> {t + 600} +0000\ndata 7\nrelease\n")
            else:
                out.append(f"reset refs/tags/{name}\nfrom :{main_tip}\n\n")
    subprocess.run(["git", "-C", a.path, "fast-import", "--quiet"], input="".join(out).encode(), check=True)
    subprocess.run(["git", "-C", a.path, "checkout", "-q", "-f", "main"], check=True)


if __name__ == "__main__":
    main()
