"""Live collaboration: rooms, peers, the wire protocol, awareness, forks; no file I/O."""
