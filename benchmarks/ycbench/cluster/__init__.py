"""The cluster benchmark (benchmarks/cluster.py): several of our servers sharing one folder through
one Redis, against one server. Each module measures one group of figures."""
