"""End-to-end tests of the cluster (docs/cluster.md): real Jupyter servers sharing one folder
through a real redis-server."""
