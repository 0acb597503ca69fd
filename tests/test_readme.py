"""The README's table of the package's folders names every module of the package, and no module
that does not exist: a module added, moved or removed fails here until the table says so. And
what cites docs/protocol.md cites a section (or an item of section 10) it has. Its metrics table
names every family the server exports, with its type."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import jupyter_ycollab
from jupyter_ycollab.metrics.export import EXPORTER

PACKAGE = Path(jupyter_ycollab.__file__).parent
ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"
PROTOCOL = ROOT / "docs" / "protocol.md"
#: ``docs/protocol.md section 4``, ``docs/protocol.md 10.6, 10.9`` (a line break may fall inside).
CITATION = re.compile(r"docs/protocol\.md\)?\s+(section\s+\d+|\d+\.\d+(?:,\s*\d+\.\d+)*)")


def readme_rows() -> list[tuple[str, list[str]]]:
    """The table's rows: a folder relative to the package (``web/``, ``""`` for the package's
    own) and the modules it names."""
    text = README.read_text()
    table = text[text.index("| folder | job | modules |") :].split("\n\n", 1)[0]
    rows = []
    for row in table.splitlines()[2:]:
        folder, _job, names = (cell.strip() for cell in row.strip("|").split(" | "))
        rows.append(
            (folder.strip("`").removeprefix("jupyter_ycollab/"), re.findall(r"`(\w+\.py)`", names))
        )
    return rows


def readme_modules() -> list[str]:
    """The modules the table names, as paths relative to the package (``web/session.py``)."""
    return [folder + name for folder, names in readme_rows() for name in names]


def only_a_docstring(path: Path) -> bool:
    body = ast.parse(path.read_text()).body
    return len(body) == 1 and isinstance(body[0], ast.Expr)


def package_modules() -> set[str]:
    """Every module of the package, but the ``__init__.py`` files that hold only a docstring
    (the table's line for the folder says what they say)."""
    return {
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if not (path.name == "__init__.py" and only_a_docstring(path))
    }


def test_the_readme_names_every_module() -> None:
    missing = package_modules() - set(readme_modules())
    assert not missing, f"add to the README's table of folders: {sorted(missing)}"


def test_the_readme_names_no_module_that_does_not_exist() -> None:
    listed = readme_modules()
    unknown = [module for module in listed if not (PACKAGE / module).is_file()]
    assert not unknown, f"the README's table names modules that do not exist: {unknown}"
    assert len(set(listed)) == len(listed), "a module is named twice"


def test_the_table_has_one_line_per_folder() -> None:
    folders = [folder for folder, _names in readme_rows()]
    assert len(set(folders)) == len(folders), "a folder has two lines"
    assert set(folders) == {
        "" if path.parent == PACKAGE else f"{path.parent.relative_to(PACKAGE).as_posix()}/"
        for path in PACKAGE.rglob("*.py")
    }


def protocol_citations() -> set[str]:
    """What the repository cites of docs/protocol.md: ``section 4``, ``10.5``."""
    cited = set()
    for folder in ("jupyter_ycollab", "tests", "ui-tests", "benchmarks"):
        for path in (ROOT / folder).rglob("*.py"):
            cited |= _citations(path.read_text())
    return cited | _citations(README.read_text())


def _citations(text: str) -> set[str]:
    return {
        " ".join(part.split())
        for match in CITATION.finditer(text)
        for part in match.group(1).split(",")
    }


def test_what_cites_the_protocol_finds_it_there() -> None:
    text = PROTOCOL.read_text()
    sections = set(re.findall(r"^## (\d+)\. ", text, flags=re.MULTILINE))
    beyond = text[text.index("## 10. ") :]
    items = set(re.findall(r"^(\d+)\. ", beyond, flags=re.MULTILINE))
    cited = protocol_citations()
    assert "section 4" in cited and "10.5" in cited  # the pattern still reads the citations
    for citation in cited:
        if citation.startswith("section "):
            assert citation.removeprefix("section ") in sections, citation
        else:
            section, item = citation.split(".")
            assert section == "10" and item in items, citation


def readme_metrics() -> dict[str, str]:
    """The README's metrics table: each family's full name and its type."""
    text = README.read_text()
    table = text[text.index("| name | type | labels | meaning |") :].split("\n\n", 1)[0]
    rows = (row.strip("|").split(" | ") for row in table.splitlines()[2:])
    return {name.strip().strip("`"): kind.strip() for name, kind, *_rest in rows}


def test_the_metrics_table_names_every_exported_family_and_its_type() -> None:
    exported = {}
    for family in EXPORTER.describe():
        # prometheus_client names a counter family without its ``_total``.
        name = family.name + ("_total" if family.type == "counter" else "")
        exported[name] = family.type
    assert len(exported) > 20  # the collector still describes its families
    assert readme_metrics() == exported
