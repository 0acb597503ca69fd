"""The public surface deployments import: ``jupyter_ycollab.hooks`` exports exactly what the
README lists, the README's example imports nothing else, the paths deployments used before the
package tree are deprecated re-exports of the same objects, and the package's modules import
one another without a circle (type-only imports aside)."""

from __future__ import annotations

import ast
import importlib
import re
import sys
from pathlib import Path

import pytest

import jupyter_ycollab
from jupyter_ycollab import hooks
from jupyter_ycollab.rooms.ids import GLOBAL_AWARENESS
from jupyter_ycollab.rooms.peer import Peer
from jupyter_ycollab.rooms.room import Room
from jupyter_ycollab.web.websocket import RoomHandler

ROOT = Path(__file__).parent.parent
PACKAGE = Path(jupyter_ycollab.__file__).parent
README = ROOT / "README.md"

#: Old import path -> the names it still gives, as the objects they are now.
DEPRECATED = {
    "jupyter_ycollab.handlers": {"RoomHandler": RoomHandler},
    "jupyter_ycollab.peer": {"Peer": Peer},
    "jupyter_ycollab.room": {"Room": Room},
    "jupyter_ycollab.roomid": {"GLOBAL_AWARENESS": GLOBAL_AWARENESS},
}


def readme_public_names() -> list[str]:
    """The first column of the README's table of ``jupyter_ycollab.hooks`` names."""
    text = README.read_text()
    table = text[text.index("| name | what it is |") :].split("\n\n", 1)[0]
    return re.findall(r"^\| `(\w+)` \|", table, flags=re.MULTILINE)


def test_the_public_names_are_those_the_readme_lists() -> None:
    listed = readme_public_names()
    assert sorted(listed) == sorted(hooks.__all__)
    assert len(set(listed)) == len(listed), "a name is listed twice"


@pytest.mark.parametrize("name", hooks.__all__)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(hooks, name) is not None


def test_the_app_comes_lazily_and_is_the_app() -> None:
    from jupyter_ycollab.app import YCollabApp

    assert hooks.YCollabApp is YCollabApp
    with pytest.raises(AttributeError):
        _ = hooks.NoSuchName  # type: ignore[attr-defined]


def test_the_readme_example_imports_only_the_public_module() -> None:
    tree = ast.parse((ROOT / "tests" / "example_hooks.py").read_text())
    modules = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("jupyter_ycollab")
    }
    assert modules == {"jupyter_ycollab.hooks"}


@pytest.mark.parametrize("module", sorted(DEPRECATED))
def test_an_old_path_warns_and_gives_the_same_objects(module: str) -> None:
    sys.modules.pop(module, None)  # a module warns when it is imported: import it afresh
    with pytest.warns(DeprecationWarning, match="from jupyter_ycollab.hooks import"):
        old = importlib.import_module(module)
    for name, new in DEPRECATED[module].items():
        assert getattr(old, name) is new


def test_the_package_never_imports_an_old_path() -> None:
    for module, imported in runtime_imports().items():
        assert not imported & set(DEPRECATED), module


# -- import circles ---------------------------------------------------------------------------


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_level(statements: list[ast.stmt], types: bool) -> list[ast.stmt]:
    """The statements run when the module is imported, without function bodies (imports done
    when first needed), and without ``if TYPE_CHECKING:`` blocks (imports for types only)
    unless ``types``."""
    found: list[ast.stmt] = []
    for statement in statements:
        if isinstance(statement, ast.If):
            if types or "TYPE_CHECKING" not in ast.unparse(statement.test):
                found += _module_level(statement.body + statement.orelse, types)
        elif isinstance(statement, ast.Try):
            found += _module_level(statement.body + statement.orelse + statement.finalbody, types)
        else:
            found.append(statement)
    return found


def _imported(module: str, is_package: bool, statement: ast.stmt, known: set[str]) -> set[str]:
    if isinstance(statement, ast.Import):
        return {alias.name for alias in statement.names} & known
    if not isinstance(statement, ast.ImportFrom):
        return set()
    package = module if is_package else module.rpartition(".")[0]
    for _ in range(statement.level - 1):
        package = package.rpartition(".")[0]
    base = f"{package}.{statement.module}" if statement.level else statement.module or ""
    if statement.level and not statement.module:
        base = package
    names = {f"{base}.{alias.name}" for alias in statement.names}
    return ({base} | names) & known


def runtime_imports(types: bool = False) -> dict[str, set[str]]:
    """Module -> the package's modules it imports when it is itself imported (and for its
    types only, with ``types``)."""
    files = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {}
    for module, path in files.items():
        is_package = path.name == "__init__.py"
        body = _module_level(ast.parse(path.read_text()).body, types)
        graph[module] = set().union(
            *(_imported(module, is_package, statement, set(files)) for statement in body)
        ) - {module}
    return graph


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        for imported in sorted(graph[module]):
            circle = visit(imported, [*path, module])
            if circle:
                return circle
        done.add(module)
        return None

    for module in sorted(graph):
        circle = visit(module, [])
        if circle:
            return circle
    return None


def test_no_module_imports_itself_through_others_at_import_time() -> None:
    graph = runtime_imports()
    assert "jupyter_ycollab.web.websocket" in graph
    assert find_circle(graph) is None, " -> ".join(find_circle(graph) or [])


def test_the_routes_know_their_services_not_the_app() -> None:
    """web/ reads one typed object from the Tornado settings (web/services.py): not even its
    types come from app.py, the composition root that imports web/."""
    for module, imported in runtime_imports(types=True).items():
        if module.startswith("jupyter_ycollab.web"):
            assert "jupyter_ycollab.app" not in imported, module


def test_the_circle_finder_finds_one() -> None:
    assert find_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
