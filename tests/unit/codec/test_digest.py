"""The notebook digest is defined once (codec/digest.py): the contents-manager path and the fast
path give the same digest for the same content, so that a room saved on one path and reopened on
the other still knows when a save would change nothing."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from jupyter_ycollab.codec.building import build_base, loaded_cells
from jupyter_ycollab.codec.digest import digest_of
from jupyter_ycollab.codec.kinds import DocumentKind
from jupyter_ycollab.document.render import RenderJob
from jupyter_ycollab.document.render import render as render_for_the_contents_manager
from jupyter_ycollab.fastpath.nbwrite import WrittenNotebook
from jupyter_ycollab.fastpath.serialise import FastJob, render

from ..document.test_render import SIGNING, _rich_notebook

NOTEBOOK = DocumentKind.parse("json", "notebook")


def _shapes() -> dict[str, dict[str, Any]]:
    transient = _rich_notebook()
    transient["metadata"].update(orig_nbformat=3, orig_nbformat_minor=0, signature="sha256:x")
    marked = _rich_notebook()
    marked["cells"][1]["metadata"]["trusted"] = True
    code_only = {**_rich_notebook(), "cells": _rich_notebook()["cells"][:1]}
    return {
        "rich": _rich_notebook(),
        "before 4.5 (no cell ids)": _rich_notebook(minor=4),
        "no cells": {**_rich_notebook(), "cells": []},
        "transient keys": transient,
        "a trusted flag": marked,
        "one code cell": code_only,
        "empty metadata": {**_rich_notebook(), "metadata": {}},
    }


SHAPES = _shapes()


@pytest.mark.parametrize("content", SHAPES.values(), ids=SHAPES.keys())
def test_both_paths_give_a_notebook_the_codecs_digest(content: dict[str, Any]) -> None:
    """The digest of the notebook as the room reads it (with a first cell if it has none)."""
    base = build_base(NOTEBOOK, content)
    content = {**content, "cells": loaded_cells(content)}
    expected = digest_of(content)
    fast = FastJob(NOTEBOOK, (base,), saved_digest="other", to_bytes=True, signing=SIGNING)
    assert render_for_the_contents_manager(RenderJob(NOTEBOOK, (base,))).digest == expected
    assert render(fast).digest == expected  # cells written (and remembered)
    assert render(fast).digest == expected  # from the remembered cells
    assert render(FastJob(NOTEBOOK, (base,), digest_only=True)).digest == expected
    assert WrittenNotebook(copy.deepcopy(content)).digest == expected


@pytest.mark.parametrize("content", SHAPES.values(), ids=SHAPES.keys())
def test_a_base_digested_on_one_path_is_unchanged_on_the_other(content: dict[str, Any]) -> None:
    base = build_base(NOTEBOOK, content)
    on_contents = render_for_the_contents_manager(RenderJob(NOTEBOOK, (base,))).digest
    on_fast = render(FastJob(NOTEBOOK, (base,), digest_only=True)).digest
    assert render(FastJob(NOTEBOOK, (base,), saved_digest=on_contents, to_bytes=True)).unchanged
    job = RenderJob(NOTEBOOK, (base,), saved_digest=on_fast)
    assert render_for_the_contents_manager(job).unchanged


def test_the_digest_tells_content_apart_and_ignores_transient_keys() -> None:
    rich = _rich_notebook()
    edited = copy.deepcopy(rich)
    edited["cells"][2]["source"] = "changed"
    moved = {**rich, "cells": [rich["cells"][1], rich["cells"][0], rich["cells"][2]]}
    assert len({digest_of(rich), digest_of(edited), digest_of(moved)}) == 3
    assert digest_of(SHAPES["transient keys"]) == digest_of(rich)
    assert digest_of(SHAPES["a trusted flag"]) == digest_of(rich)


def test_text_and_other_content_digest_their_text_or_json() -> None:
    assert digest_of("é\n") != digest_of("é\r\n")
    assert digest_of({"b": 1, "a": [2]}) == digest_of({"a": [2], "b": 1})
