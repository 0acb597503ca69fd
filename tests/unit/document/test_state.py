"""``view_of_loaded``: making a room's view changes nothing other servers or peers can see."""

from __future__ import annotations

import pytest
from pycrdt import Doc, Map

from jupyter_ycollab.codec.kinds import DocumentKind
from jupyter_ycollab.codec.listeners import Hears, UpdateListeners
from jupyter_ycollab.document.state import view_of_loaded, write_state

pytest.importorskip("jupyterlab_chat")


async def test_a_chats_view_never_shows_the_others_a_dirty_document() -> None:
    """YChat marks its document dirty as it is made, and takes no message for new while it is
    (no server time, no persona told). Made on a server joining a cluster's room, that mark went
    out as an update of its own, the put-back in another: a server applying the first alone
    dropped the message its own user sent in between (tests/cluster/test_chat.py). Every
    update the view's making sends must leave ``dirty`` as it was."""
    doc: Doc = Doc()
    write_state(doc, dirty=False)
    other_server: Doc = Doc()
    other_server.apply_update(doc.get_update())
    sent: list[bytes] = []
    UpdateListeners.of(doc).listen(Hears.CLUSTER, lambda update, _: sent.append(update))

    view_of_loaded(DocumentKind("text", "chat"), doc)

    seen = []
    for update in sent:
        other_server.apply_update(update)
        seen.append(other_server.get("state", type=Map).get("dirty"))
    assert sent, "the view was made without a change: nothing to check"
    assert seen[-1] is False
    assert True not in seen, f"dirty as the other server saw it, update by update: {seen}"
