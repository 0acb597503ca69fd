"""cluster/keys.py: a room's keys are named by namespace, format, type and path, all distinct."""

from __future__ import annotations

from jupyter_ycollab.cluster.keys import RoomKeys, file_ids_key, server_key


def test_room_keys_are_under_the_prefix_of_the_file() -> None:
    keys = RoomKeys.of("team", "json", "notebook", "dir/a:b.ipynb")
    assert keys.prefix == "ycollab:team:json:notebook:dir/a:b.ipynb"
    assert keys.updates == keys.prefix + ":updates"
    assert keys.state == keys.prefix + ":state"
    assert keys.saved == keys.prefix + ":saved"
    assert keys.lease == keys.prefix + ":lease"
    assert keys.fence == keys.prefix + ":fence"
    assert keys.all() == (keys.updates, keys.state, keys.saved, keys.lease, keys.fence)
    assert len(set(keys.all())) == 5


def test_same_file_same_keys_other_namespace_other_keys() -> None:
    assert RoomKeys.of("", "text", "file", "a.txt") == RoomKeys.of("", "text", "file", "a.txt")
    assert RoomKeys.of("", "text", "file", "a.txt").prefix == "ycollab::text:file:a.txt"
    assert RoomKeys.of("x", "text", "file", "a.txt") != RoomKeys.of("y", "text", "file", "a.txt")


def test_server_and_file_id_keys() -> None:
    assert server_key("team", "s1") == "ycollab:team:server:s1"
    assert file_ids_key("team") == "ycollab:team:fileids"
    assert server_key("", "s1") == "ycollab::server:s1"
