"""Robustness sweep: do pypto-lib's files from its history simulate, as measured changes are drawn from it?

Usage: python bench/pypto_lib_history.py --pypto-lib DIR [--pull-requests] [--grep REGEX] [--exclude REGEX]
       [--since DATE] [--timeout S] [--jobs N] [--out FILE]

For every first-parent commit of the clone (or bare mirror) ``DIR`` whose subject matches ``--grep``
(default: the words pypto-lib's performance changes use), every changed ``.py`` file under ``models/``
that has a ``__main__`` runs through ``swimsim run FILE -- -p a2a3`` at the commit and at its parent
(``git archive`` of ``models/`` into a temporary tree), each with at most ``--timeout`` seconds
(default 150). Files matching ``--exclude`` (default: prefill, MoE, ``*_fwd``, ``decode_layer``, MTP and
draft files) are skipped. With ``--pull-requests`` the commits of the pull-request refs (``refs/pull/*/head``)
that are not on ``HEAD``'s history are taken instead (measured steps inside a pull request are among them).
A file runs once per distinct content of its folder (the git tree of the file's directory), so a state
met at several commits is simulated once. Prints one line per failed run as it ends and a summary by
outcome: simulated, multi-device (swimsim simulates one device and says so), timed out, killed (out of
memory), other error; ``--out`` writes every run's outcome as JSON lines.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from tqdm import tqdm

GREP = r"perf|speed|optimi|tun|latency|[0-9]+%|widen|fuse|pipelin"
EXCLUDE = r"prefill|moe\.py|_fwd|decode_layer|mtp|examples/|distributed|allreduce|tp4|_draft"


def git(repo: str, *args: str) -> bytes:
    return subprocess.run(["git", "--git-dir", repo, *args], check=True, capture_output=True).stdout


def git_dir(path: str) -> str:
    """The git directory of a clone or a bare mirror."""
    p = Path(path)
    return str(p / ".git") if (p / ".git").exists() else str(p)


def commits(repo: str, pull_requests: bool, since: str | None) -> list[str]:
    """``sha subject`` lines: the first-parent history of HEAD, or the pull-request commits not on it."""
    opt = [f"--since={since}"] if since else []
    if not pull_requests:
        return git(repo, "log", "--first-parent", "HEAD", "--format=%H %s", *opt).decode().splitlines()
    refs = git(repo, "for-each-ref", "--format=%(refname)", "refs/pull/*/head").decode().split()
    if not refs:
        sys.exit(f"{repo}: no refs/pull/*/head (fetch them with git fetch origin '+refs/pull/*:refs/pull/*')")
    out = git(repo, "log", "--no-merges", "--format=%H %s", *opt, *refs, "--not", "HEAD", "--", "models")
    return out.decode().splitlines()


def pairs(repo: str, grep: str, exclude: str, since: str | None, pull_requests: bool = False,
          seen: set[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
    """(commit, file) for the changed entry files of matching commits, both sides of each change, one per
    distinct content of the file's folder; with ``pull_requests``, none whose folder HEAD's history has."""
    seen = set() if seen is None else seen
    if pull_requests:
        pairs(repo, grep, exclude, since, False, seen)
    out: list[tuple[str, str]] = []
    for line in commits(repo, pull_requests, since):
        sha, _, subject = line.partition(" ")
        if not re.search(grep, subject, re.IGNORECASE):
            continue
        parent = git(repo, "rev-parse", f"{sha}^1").decode().strip()
        files = git(repo, "diff-tree", "--no-commit-id", "--name-only", "-r", parent, sha, "--", "models").decode()
        for f in files.split():
            if not f.endswith(".py") or re.search(exclude, f):
                continue
            for side in (sha, parent):
                try:
                    src = git(repo, "show", f"{side}:{f}")
                except subprocess.CalledProcessError:
                    continue  # the file is new at the commit
                key = (git(repo, "rev-parse", f"{side}:{os.path.dirname(f)}").decode().strip(), f)
                if b"__main__" in src and key not in seen:
                    seen.add(key)
                    out.append((side, f))
    return sorted(out)


def tree(repo: str, sha: str, root: Path) -> Path:
    """``models/`` of ``sha`` under ``root`` (extracted once)."""
    d = root / sha[:12]
    if not d.exists():
        tmp = root / f"{sha[:12]}.part"
        tmp.mkdir()
        subprocess.run(["tar", "-x", "-C", str(tmp)], input=git(repo, "archive", sha, "models"), check=True)
        tmp.rename(d)
    return d


def run_one(repo: str, sha: str, f: str, root: Path, timeout: float) -> dict:
    d = tree(repo, sha, root)
    t0 = time.perf_counter()
    try:
        p = subprocess.run([sys.executable, "-m", "sim", "run", f, "--", "-p", "a2a3"], cwd=d, capture_output=True,
                           text=True, timeout=timeout)
        rc, err = p.returncode, [x for x in p.stderr.splitlines() if x.startswith("swimsim: error")]
    except subprocess.TimeoutExpired:
        rc, err = None, []
    secs = time.perf_counter() - t0
    if rc == 0:
        kind = "simulated"
    elif rc is None:
        kind = "timed out"
    elif rc < 0:
        kind = "killed (out of memory)"
    elif err and ("multi-device" in err[-1] or "one device" in err[-1]):
        kind = "multi-device"
    else:
        kind = "other error"
    return {"commit": sha, "file": f, "outcome": kind, "seconds": round(secs, 1), "error": err[-1] if err else ""}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pypto-lib", required=True, help="pypto-lib clone or bare mirror")
    ap.add_argument("--pull-requests", action="store_true",
                    help="the pull-request commits (refs/pull/*/head) not on HEAD instead of HEAD's history")
    ap.add_argument("--grep", default=GREP, help="commit-subject regex (default: performance changes)")
    ap.add_argument("--exclude", default=EXCLUDE, help="file-path regex to skip")
    ap.add_argument("--since", help="only commits after this date (git --since)")
    ap.add_argument("--timeout", type=float, default=150.0, help="seconds per run (default 150)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="runs at once (default: CPU count)")
    ap.add_argument("--out", help="JSON lines file of every run's outcome")
    a = ap.parse_args()
    repo = git_dir(a.pypto_lib)
    todo = pairs(repo, a.grep, a.exclude, a.since, a.pull_requests)
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(a.jobs) as pool:
        root = Path(tmp)
        for sha in sorted({s for s, _ in todo}):  # extract serially: runs of one commit share its tree
            tree(repo, sha, root)
        futs = [pool.submit(run_one, repo, s, f, root, a.timeout) for s, f in todo]
        results = []
        with tqdm(total=len(futs), desc="pypto-lib files", unit="run", file=sys.stderr) as bar:
            for fut in as_completed(futs):  # a failure prints as soon as its run ends
                r = fut.result()
                results.append(r)
                if r["outcome"] not in ("simulated", "multi-device"):
                    bar.write(f"{r['outcome']}: {r['commit'][:10]} {r['file']} ({r['seconds']} s) {r['error']}")
                bar.update()
    results.sort(key=lambda r: (r["commit"], r["file"]))
    if a.out:
        Path(a.out).write_text("".join(json.dumps(r) + "\n" for r in results))
    n = Counter(r["outcome"] for r in results)
    ok = sorted(r["seconds"] for r in results if r["outcome"] == "simulated")
    med = ok[len(ok) // 2] if ok else 0.0
    print(f"{len(results)} runs of {len({f for _, f in todo})} files at {len({s for s, _ in todo})} commits: "
          + ", ".join(f"{k} {v}" for k, v in n.most_common()) + f"; simulated in {med} s median")


if __name__ == "__main__":
    main()
