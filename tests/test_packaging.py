"""The dependencies' lower bounds are versions CI runs: ``.ci/lowest.txt`` pins each at the bound
``pyproject.toml`` gives it, and ``.ci/run`` runs the suite's core on exactly those. A bound
raised or lowered in one file and not the other fails here, not on a user's machine."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent


def lower_bounds(requirements: list[str]) -> dict[str, str]:
    """Each requirement's name and the version its ``>=`` names (every one must have one)."""
    bounds = {}
    for line in requirements:
        requirement = Requirement(line)
        [bound] = [spec.version for spec in requirement.specifier if spec.operator == ">="]
        bounds[canonicalize_name(requirement.name)] = bound
    return bounds


def pins(constraints: str) -> dict[str, str]:
    """Each ``name==version`` line's name and version (comments and blank lines aside)."""
    pinned = {}
    for line in constraints.splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            [spec] = requirement.specifier
            assert spec.operator == "==", line
            pinned[canonicalize_name(requirement.name)] = spec.version
    return pinned


def test_lowest_versions_ci_installs_are_the_bounds_pyproject_declares() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["redis"]
    assert pins((REPO / ".ci" / "lowest.txt").read_text()) == lower_bounds(declared)


def test_the_comparison_sees_a_bound_that_moved() -> None:
    declared = lower_bounds(["pycrdt>=0.14.8,<0.15", "redis>=5"])
    assert declared == {"pycrdt": "0.14.8", "redis": "5"}
    assert pins("# oldest\npycrdt==0.14.8\nredis==5\n") == declared
    assert pins("pycrdt==0.14.0\nredis==5\n") != declared
