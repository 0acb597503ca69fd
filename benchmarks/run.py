"""Benchmark jupyter_ycollab ("ours") against jupyter-collaboration 5.0.4 ("reference").

    python benchmarks/run.py [--quick] [--servers ours,reference] [--scenarios ...]

Prints a Markdown table (both servers, ours/reference ratio, limit) and writes it, with the raw
figures as JSON and plots as PNG (when matplotlib is installed), to benchmarks/results/. See
benchmarks/README.md for what each figure means.

    python benchmarks/run.py --plot-json benchmarks/results/<run>.json   # draw an earlier run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from ycbench import machine, refenv, report  # noqa: E402
from ycbench.config import FULL, QUICK, ServerSettings  # noqa: E402
from ycbench.results import Results  # noqa: E402
from ycbench.runner import SCENARIOS, Runner  # noqa: E402
from ycbench.scenarios import Context  # noqa: E402
from ycbench.servers import OURS_METRICS_OFF, REPO, Target, ours, reference  # noqa: E402
from ycbench.workloads import WorkloadCache  # noqa: E402


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller run, under 5 minutes")
    parser.add_argument(
        "--servers",
        default="ours,reference",
        help=f"comma-separated: ours, reference, {OURS_METRICS_OFF} (ours, metrics off)",
    )
    parser.add_argument(
        "--scenarios", default=",".join(SCENARIOS), help=f"comma-separated, of {list(SCENARIOS)}"
    )
    parser.add_argument("--no-limit", action="store_true", help="skip the limit column")
    parser.add_argument(
        "--reference-venv",
        type=Path,
        default=HERE / ".venv-reference",
        help="virtualenv of the reference (created when missing)",
    )
    parser.add_argument(
        "--reference-python",
        type=Path,
        help="use this interpreter for the reference instead of --reference-venv",
    )
    parser.add_argument("--output", type=Path, default=HERE / "results")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    parser.add_argument("--no-plots", action="store_true", help="write no PNG plots")
    parser.add_argument(
        "--plot-json",
        type=Path,
        metavar="FILE",
        help="only draw the plots of an earlier run's .json, next to it, and exit",
    )
    return parser.parse_args()


def _targets(args: argparse.Namespace, settings: ServerSettings) -> list[Target]:
    targets = []
    for name in args.servers.split(","):
        if name == "ours":
            targets.append(ours(settings))
        elif name == OURS_METRICS_OFF:
            targets.append(ours(settings, metrics=False))
        elif name == "reference":
            python = args.reference_python or refenv.ensure(args.reference_venv)
            if not refenv.uses_pinned_reference(python):
                sys.exit(f"{python} does not have jupyter-collaboration 5.0.4")
            targets.append(reference(settings, python))
        else:
            sys.exit(f"unknown server {name!r}: use ours, reference and/or {OURS_METRICS_OFF}")
    return targets


def _write(results: Results, text: str, output: Path, mode: str) -> Path:
    """Write the table and the raw figures; return their common stem (no suffix)."""
    output.mkdir(parents=True, exist_ok=True)
    stem = output / f"{time.strftime('%Y%m%d-%H%M%S')}-{mode}"
    stem.with_suffix(".json").write_text(json.dumps(results.to_json(), indent=1))
    stem.with_suffix(".md").write_text(text + "\n")
    return stem


def _plot(data: dict[str, Any], stem: Path) -> None:
    """Draw the plots as `<stem>-<plot>.png`; matplotlib is optional (the table does not need
    it), so without it this says so in one line and draws nothing."""
    try:
        from ycbench.plots import write_plots
    except ModuleNotFoundError as error:
        if not (error.name or "").startswith("matplotlib"):
            raise
        print("no plots: matplotlib is not installed (pip install -e .[bench])", file=sys.stderr)
        return
    for path in write_plots(data, stem):
        print(f"plot: {path}", file=sys.stderr)


def main() -> None:
    args = _arguments()
    if args.plot_json:
        _plot(json.loads(args.plot_json.read_text()), args.plot_json.with_suffix(""))
        return
    mode = QUICK if args.quick else FULL
    settings = ServerSettings()
    targets = _targets(args, settings)
    workdir = Path(tempfile.mkdtemp(prefix="ycbench-"))
    results = Results(info=machine.describe(REPO, mode.name))
    context = Context(mode, settings, WorkloadCache(workdir / "workloads"))
    started = time.perf_counter()
    try:
        runner = Runner(context, targets, workdir, results)
        asyncio.run(runner.run(args.scenarios.split(","), with_limit=not args.no_limit))
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    results.info["wall time"] = f"{time.perf_counter() - started:.0f} s"
    text = report.render(results)
    print(text)
    stem = _write(results, text, args.output, mode.name)
    print(f"\nwritten to {stem.with_suffix('.md')}", file=sys.stderr)
    if not args.no_plots:
        _plot(results.to_json(), stem)


if __name__ == "__main__":
    main()
