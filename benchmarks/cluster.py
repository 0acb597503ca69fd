"""Benchmark the cluster: several of our servers sharing one folder through one Redis.

    python benchmarks/cluster.py [--quick] [--parts latency,cpu,memory]

Starts its own redis-server (Debian's, free loopback port, nothing persisted) and Jupyter servers
for each part, prints a Markdown table and writes it, with the raw figures as JSON, to
benchmarks/results/ (`<date>-cluster-<mode>.md`). See "Cluster" in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from ycbench import machine  # noqa: E402
from ycbench.cluster import cpu, latency, memory, report  # noqa: E402
from ycbench.cluster.config import FULL, QUICK, Part  # noqa: E402
from ycbench.results import Results, Sink  # noqa: E402
from ycbench.servers import REPO  # noqa: E402
from ycbench.workloads import WorkloadCache  # noqa: E402

PARTS: dict[str, tuple[str, Callable[[Part, Sink], Awaitable[None]]]] = {
    "latency": (latency.GROUP, latency.measure),
    "cpu": (cpu.GROUP, cpu.measure),
    "memory": (memory.GROUP, memory.measure),
}


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller run, under 5 minutes")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"of {list(PARTS)}")
    parser.add_argument("--output", type=Path, default=HERE / "results")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    return parser.parse_args()


async def _run(names: list[str], part: Part, results: Results) -> None:
    """Each part in turn with its own Redis and servers; a failed part is n/a, the rest go on."""
    for name in names:
        group, measure = PARTS[name]
        started = time.perf_counter()
        try:
            await measure(part, Sink(results, group, report.TARGET))
            print(f"[{name}] done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        except Exception as error:  # one broken part must not hide the others' figures
            results.fail(report.TARGET, group, repr(error))
            print(f"[{name}] failed: {error!r}", file=sys.stderr)


def _write(results: Results, text: str, output: Path, mode: str) -> Path:
    output.mkdir(parents=True, exist_ok=True)
    stem = output / f"{time.strftime('%Y%m%d-%H%M%S')}-cluster-{mode}"
    stem.with_suffix(".json").write_text(json.dumps(results.to_json(), indent=1))
    stem.with_suffix(".md").write_text(text + "\n")
    return stem.with_suffix(".md")


def main() -> None:
    args = _arguments()
    names = args.parts.split(",")
    unknown = [name for name in names if name not in PARTS]
    if unknown:
        sys.exit(f"unknown parts {unknown}: use {list(PARTS)}")
    mode = QUICK if args.quick else FULL
    workdir = Path(tempfile.mkdtemp(prefix="ycbench-cluster-"))
    info = machine.describe(REPO, mode.name)
    info.pop("reference")
    info["redis"] = "Debian redis-server, --save '' --appendonly no"
    results = Results(info=info)
    started = time.perf_counter()
    try:
        asyncio.run(_run(names, Part(mode, workdir, WorkloadCache(workdir / "workloads")), results))
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    results.info["wall time"] = f"{time.perf_counter() - started:.0f} s"
    text = report.render(results)
    print(text)
    print(f"\nwritten to {_write(results, text, args.output, mode.name)}", file=sys.stderr)


if __name__ == "__main__":
    main()
