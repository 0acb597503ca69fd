"""File content <-> ``Doc`` shapes: the deterministic build, the read back, the digest (pure)."""
