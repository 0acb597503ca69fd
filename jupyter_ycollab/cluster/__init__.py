"""Rooms shared by several Jupyter servers through Redis Streams (docs/cluster.md).

Only the composition root (app.py) imports this package, and only when ``redis_url`` is set: a
single server never loads it, nor the ``redis`` client it needs (``pip install
jupyter_ycollab[redis]``).
"""
