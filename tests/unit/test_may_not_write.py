"""errors.py ``may_not_write``: which failures of a save mean that this server may not write the
file (another server of a cluster may), as the contents managers report them."""

from __future__ import annotations

import errno

import pytest
from tornado.web import HTTPError

from jupyter_ycollab.errors import may_not_write


def caused(outer: BaseException, cause: BaseException) -> BaseException:
    """``outer`` raised ``from cause``, as jupyter_server's ``save`` wraps what it does not know."""
    outer.__cause__ = cause
    return outer


@pytest.mark.parametrize(
    ("error", "refused"),
    [
        (HTTPError(403, "Permission denied: a.txt"), True),  # perm_to_403: EACCES, EPERM
        (PermissionError(errno.EACCES, "Permission denied"), True),  # the fast path's writer
        (OSError(errno.EPERM, "Operation not permitted"), True),
        (caused(HTTPError(500, "Unexpected error"), OSError(errno.EROFS, "Read-only")), True),
        (OSError(errno.EROFS, "Read-only file system"), True),
        (OSError(errno.ENOSPC, "No space left on device"), False),  # another server fares no better
        (caused(HTTPError(500, "Unexpected error"), OSError(errno.EIO, "I/O")), False),
        (HTTPError(500, "Unexpected error while saving file"), False),
        (HTTPError(404, "No such file"), False),
        (ValueError("not a notebook"), False),
    ],
)
def test_a_refusal_to_write_is_told_from_other_failures(
    error: BaseException, refused: bool
) -> None:
    assert may_not_write(error) is refused
