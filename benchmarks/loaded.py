"""shendu (and the peers) on a loaded machine: each benchmark run quiet and beside N busy processes (each a
plain Python loop), in turn, and each framework's loaded epoch time set against its quiet one.

The goal (issue 21): shendu's epoch beside two busy processes at most 3x its quiet time, for the MLP, the CNN and
the LSTM. Each benchmark script runs as it is, its `report` rows collected through SHENDU_BENCH_RESULTS; the
busy processes run for the whole loaded run. Run: `python benchmarks/loaded.py [--load N] [--rounds N]
[--benchmarks mlp,cnn,lstm] [--frameworks shendu,pytorch,...] [--peer-python PATH]`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

from common import RESULTS_ENV, busy_processes

HERE = os.path.dirname(os.path.abspath(__file__))
BENCHMARKS = {  # each short: one epoch, the CNN on a fifth of MNIST, the LSTM case alone
    "mlp": ["mlp.py", "--full-batch-epochs", "0"],
    "cnn": ["cnn.py", "--limit", "12800"],
    "lstm": ["lstm.py", "--cases", "lstm", "--repeats", "1"],
}
GOAL = 3.0


def run(bench: str, frameworks: str, load: int) -> list[dict]:
    """The report rows of one benchmark run, beside `load` busy processes."""
    with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as results:
        env = {**os.environ, RESULTS_ENV: results.name}
        script, *args = BENCHMARKS[bench]
        with busy_processes(load):
            proc = subprocess.run([sys.executable, os.path.join(HERE, script), *args, "--frameworks", frameworks],
                                  capture_output=True, text=True, env=env)
        if proc.returncode:
            print(f"  {bench}: not run: {(proc.stderr.strip().splitlines() or ['no output'])[-1]}")
        for line in proc.stdout.splitlines():
            if "not run" in line:
                print(f"  {bench}{' loaded' if load else ''}: {line.strip()}")
        return [json.loads(line) for line in results.read().splitlines()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load", type=int, default=2, help="busy processes beside the loaded runs")
    parser.add_argument("--rounds", type=int, default=1, help="quiet and loaded runs in turn; medians are shown")
    parser.add_argument("--benchmarks", default=",".join(BENCHMARKS), help="from " + ", ".join(BENCHMARKS))
    parser.add_argument("--frameworks", default="shendu", help="passed to each benchmark (default: shendu alone)")
    parser.add_argument("--peer-python", default=None, help="the interpreter for the peers (default: $PEER_PYTHON)")
    args = parser.parse_args()
    if args.peer_python:
        os.environ["PEER_PYTHON"] = args.peer_python
    times: dict[tuple[str, str, int], list[float]] = {}
    for _ in range(args.rounds):
        for bench in args.benchmarks.split(","):
            for load in (0, args.load):
                for row in run(bench, args.frameworks, load):
                    times.setdefault((bench, row["name"], load), []).append(row["secs"])
    print(f"\nQuiet against beside {args.load} busy processes, {os.cpu_count()} cores, median of {args.rounds} "
          f"round(s), seconds per epoch")
    for (bench, name, load), secs in times.items():
        if load or (bench, name, args.load) not in times:
            continue
        quiet, loaded = statistics.median(secs), statistics.median(times[bench, name, args.load])
        ratio = loaded / quiet
        goal = f" (goal <= {GOAL:.0f}x: {'met' if ratio <= GOAL else 'not met'})" if name.startswith("shendu") else ""
        print(f"  {bench.upper()} {name}: quiet {quiet:.3f} s, loaded {loaded:.3f} s, ratio {ratio:.2f}x{goal}")


if __name__ == "__main__":
    main()
