"""`make bench`: the whole nightly job against a plain pandas + Splink script, on the same files.

    python benchmarks/bench_night.py                      # 640,000 persons, seed 1, profile base
    python benchmarks/bench_night.py --persons 20000      # a quick look

1. Generates the sample once (cached under data/bench/sample-<persons>-s<seed>-<profile>/).
2. Night 1: `dtsen run` on a fresh warehouse and Dagster instance (no truth folder, as in
   production): wall time, peak memory of the process, and each step's time from the run's
   event log with the process's peak resident memory while it ran (sampled every 0.25 s).
3. The plain script (benchmarks/plain_splink.py) on the same files: wall time, peak memory.
4. Night 2: about 1% of the person records changed (`sample.changed_night`), `dtsen run` again
   on the same warehouse (an incremental night: feeds without a new delivery are not staged
   again, linkage scores the changed records' pairs only); then the same night 2 again as a full
   rebuild (DTSEN_RESTAGE=1 DTSEN_LINKAGE_FULL=1: every feed staged again, every pair scored) on a
   copy of night 1's state, and the two nights' golden persons compared (pairwise agreement, same
   ids).
5. Prints the figures and the ratios the performance issue sets (full run <= 2x plain, peak
   memory <= 4 GB, night 2 <= 20% of night 1) and writes them to data/bench/results.json.

Run it on a quiet machine: the figures are wall times. Prints figures only (no record values).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "data" / "bench"
TARGET_RATIO_TO_PLAIN, TARGET_PEAK_GB, TARGET_NIGHT_SHARE = 2.0, 4.0, 0.20


@dataclass
class Measured:
    wall_s: float
    peak_gb: float
    returncode: int
    run_s: float | None = None  # the Dagster run's own start to end
    steps: dict[str, float] = field(default_factory=dict)
    detail: dict = field(default_factory=dict)
    step_peak_gb: dict[str, float] = field(default_factory=dict)


SAMPLE_SECONDS = 0.25


def _tree_resident_bytes(root: int) -> int:
    """Resident memory of a process and its descendants (Linux /proc; 0 elsewhere)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/statm") as statm:
                total += int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            pass
        todo += children.get(pid, [])
    return total


def measure(command: list[str], env: dict[str, str], log: Path,
            samples: list[tuple[float, float]] | None = None) -> tuple[float, float, int]:
    """Wall seconds, peak resident memory (GB) and exit code of one child process; with `samples`,
    the resident memory of its process tree (epoch seconds, GB) every SAMPLE_SECONDS, so each
    step's own peak can be read off its start and end (`step_peaks`)."""
    with log.open("w") as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        done = threading.Event()

        def sample() -> None:
            while not done.wait(SAMPLE_SECONDS):
                samples.append((time.time(), _tree_resident_bytes(process.pid) / 1024**3))

        sampler = threading.Thread(target=sample, daemon=True) if samples is not None else None
        if sampler is not None:
            sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        done.set()
        if sampler is not None:
            sampler.join()
    return wall, usage.ru_maxrss / 1024**2, os.waitstatus_to_exitcode(status)


def step_peaks(windows: dict[str, tuple[float, float]], samples: list[tuple[float, float]]) -> dict[str, float]:
    """Each step's peak resident memory (GB) from the samples taken between its start and end
    (the whole process: in one process, what earlier steps still hold counts too)."""
    peaks = {}
    for key, (begin, end) in windows.items():
        inside = [gb for at, gb in samples if begin <= at <= end + SAMPLE_SECONDS]
        if inside:
            peaks[key] = round(max(inside), 2)
    return peaks


def sample(persons: int, seed: int, profile: str) -> Path:
    folder = BENCH / f"sample-{persons}-s{seed}-{profile}"
    if not (folder / "_truth" / "records.csv").exists():
        shutil.rmtree(folder, ignore_errors=True)
        print(f"generating the sample ({persons:,} persons) into {folder} ...", flush=True)
        from dtsen_pipeline.sample import generate

        generate(persons=persons, seed=seed, out_dir=folder, profile=profile)
    return folder


def step_seconds(home: Path) -> tuple[float | None, dict[str, float], dict[str, tuple[float, float]]]:
    """The latest run's duration, each step's, and each step's start and end (epoch seconds),
    from the instance's event log."""
    from dagster import DagsterEventType, DagsterInstance

    with DagsterInstance.from_config(str(home)) as instance:
        run = instance.get_runs(limit=1)[0]
        stats = instance.get_run_stats(run.run_id)
        starts, ends = {}, {}
        for entry in instance.all_logs(run.run_id, of_type={DagsterEventType.STEP_START,
                                                             DagsterEventType.STEP_SUCCESS,
                                                             DagsterEventType.STEP_FAILURE,
                                                             DagsterEventType.STEP_SKIPPED}):
            (starts if entry.dagster_event.event_type == DagsterEventType.STEP_START else ends)[entry.step_key] = \
                entry.timestamp
        steps = {key: round(ends[key] - starts[key], 1) for key in starts if key in ends}
        windows = {key: (starts[key], ends[key]) for key in starts if key in ends}
        run_s = stats.end_time - stats.start_time if stats.end_time and stats.start_time else None
    return (round(run_s, 1) if run_s else None), steps, windows


def night(env: dict[str, str], work: Path, name: str) -> Measured:
    print(f"{name}: dtsen run ...", flush=True)
    samples: list[tuple[float, float]] = []
    wall, peak, code = measure([sys.executable, "-m", "dtsen_pipeline.cli", "run"], env, work / f"{name}.log", samples)
    run_s, steps, windows = step_seconds(Path(env["DAGSTER_HOME"]))
    return Measured(round(wall, 1), round(peak, 2), code, run_s, steps, step_peak_gb=step_peaks(windows, samples))


def plain(landing: Path, work: Path) -> Measured:
    print("plain pandas + Splink script ...", flush=True)
    log = work / "plain.log"
    wall, peak, code = measure([sys.executable, str(ROOT / "benchmarks" / "plain_splink.py"), "--landing",
                                str(landing), "--out", str(work / "plain_clusters.parquet")], dict(os.environ), log)
    lines = [line for line in log.read_text().splitlines() if line.startswith("{")]
    return Measured(round(wall, 1), round(peak, 2), code, detail=json.loads(lines[-1]) if lines else {})


def agreement_with_full(incremental: Path, full: Path) -> dict[str, float]:
    """The golden persons of two warehouses (night 2 incremental, night 2 full rebuild): pairwise
    agreement of who is one person (the full rebuild as the reference) and the share of records
    whose person id is the same. Ids and counts only."""
    import duckdb

    from dtsen_pipeline.linkage.evaluate import pairwise_scores

    def persons(path: Path):
        with duckdb.connect(str(path), read_only=True) as connection:
            return connection.execute("SELECT record_id, person_id FROM golden.person_source").df()

    mine, reference = persons(incremental), persons(full)
    scores = pairwise_scores(mine.rename(columns={"person_id": "cluster_id"}),
                             reference.rename(columns={"person_id": "person_key"}))
    same = mine.merge(reference, on="record_id", suffixes=("", "_full"))
    return {"records": int(len(same)), "pairwise_precision": scores.precision, "pairwise_recall": scores.recall,
            "pairwise_f1": scores.f1,
            "same_person_id": round(float((same["person_id"] == same["person_id_full"]).mean()), 6)}


def table(first: Measured, second: Measured) -> list[str]:
    keys = sorted(set(first.steps) | set(second.steps), key=lambda k: -first.steps.get(k, 0))
    rows = [f"  {'step':<40} {'night 1':>9} {'night 2':>9} {'night 1 peak':>13}"]
    for key in keys:
        rows.append(f"  {key:<40} {first.steps.get(key, float('nan')):>8.1f}s {second.steps.get(key, float('nan')):>8.1f}s"
                    f" {first.step_peak_gb.get(key, float('nan')):>10.2f} GB")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=640_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", choices=("base", "field"), default="base")
    parser.add_argument("--changed", type=float, default=0.01, help="share of person records changed on night 2")
    args = parser.parse_args(argv)

    source = sample(args.persons, args.seed, args.profile)
    work = BENCH / "work"
    shutil.rmtree(work, ignore_errors=True)
    landing = work / "landing"
    shutil.copytree(source, landing, ignore=shutil.ignore_patterns("_truth"))
    shutil.copytree(source / "_truth", work / "truth_for_changes")  # not given to the run: production has none
    (work / "no_truth").mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(work / "home"), "DTSEN_LANDING_DIR": str(landing),
           "DTSEN_ARTIFACTS_DIR": str(work / "artifacts"), "DTSEN_TRUTH_DIR": str(work / "no_truth"),
           "DTSEN_WAREHOUSE_URL": f"duckdb:///{work / 'warehouse.duckdb'}"}

    first = night(env, work, "night1")
    yardstick = plain(landing, work)
    from dtsen_pipeline.sample.changed_night import change_night

    shutil.copytree(work / "truth_for_changes", landing / "_truth")  # change_night reads which rows are records
    change = change_night(landing, share=args.changed, seed=args.seed + 1)
    shutil.rmtree(landing / "_truth")
    rebuild = work / "rebuild"  # night 1's state, for the same night 2 as a full rebuild
    for part in ("home", "artifacts"):
        shutil.copytree(work / part, rebuild / part)
    shutil.copyfile(work / "warehouse.duckdb", rebuild / "warehouse.duckdb")
    second = night(env, work, "night2")
    full_env = {**env, "DAGSTER_HOME": str(rebuild / "home"), "DTSEN_ARTIFACTS_DIR": str(rebuild / "artifacts"),
                "DTSEN_WAREHOUSE_URL": f"duckdb:///{rebuild / 'warehouse.duckdb'}", "DTSEN_LINKAGE_FULL": "1",
                "DTSEN_RESTAGE": "1"}
    full_second = night(full_env, work, "night2_full")
    agreement = agreement_with_full(work / "warehouse.duckdb", rebuild / "warehouse.duckdb")

    ratio = first.wall_s / yardstick.wall_s if yardstick.wall_s else float("nan")
    share = second.wall_s / first.wall_s if first.wall_s else float("nan")
    lines = [
        f"make bench: {args.persons:,} persons (seed {args.seed}, profile {args.profile}), {os.cpu_count()} cores",
        f"night 1 (full):  {first.wall_s:.0f} s wall ({first.run_s} s in Dagster), peak {first.peak_gb:.2f} GB, "
        f"exit {first.returncode}",
        f"plain script:    {yardstick.wall_s:.0f} s wall, peak {yardstick.peak_gb:.2f} GB, exit {yardstick.returncode} "
        f"({json.dumps(yardstick.detail)})",
        f"night 2 ({change.changed:,} of {change.records:,} records changed in {change.files} files): "
        f"{second.wall_s:.0f} s wall ({second.run_s} s in Dagster), peak {second.peak_gb:.2f} GB, exit {second.returncode}",
        f"night 2 again as a full rebuild (DTSEN_RESTAGE=1 DTSEN_LINKAGE_FULL=1, from night 1's state): {full_second.wall_s:.0f} s wall, "
        f"exit {full_second.returncode}",
        f"night 2 incremental against the full rebuild: {json.dumps(agreement)}",
        "time per step:", *table(first, second),
        f"full run / plain script:  {ratio:.2f}  (target <= {TARGET_RATIO_TO_PLAIN})",
        f"peak memory, night 1:     {first.peak_gb:.2f} GB  (target <= {TARGET_PEAK_GB})",
        f"night 2 / night 1:        {share:.2f}  (target <= {TARGET_NIGHT_SHARE})",
        f"golden persons, incremental vs full: pairwise F1 {agreement['pairwise_f1']:.5f}, same person id for "
        f"{agreement['same_person_id']:.5f} of the records  (target >= 0.999, same ids)",
    ]
    print("\n".join(lines))
    results = {"persons": args.persons, "seed": args.seed, "profile": args.profile, "night1": asdict(first),
               "plain": asdict(yardstick), "night2": asdict(second), "night2_full": asdict(full_second),
               "agreement_with_full": agreement, "changed": asdict(change),
               "ratio_full_to_plain": round(ratio, 2), "night2_share": round(share, 2)}
    (BENCH / "results.json").write_text(json.dumps(results, indent=2))
    codes = (first.returncode, second.returncode, full_second.returncode, yardstick.returncode)
    return 0 if not any(codes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
