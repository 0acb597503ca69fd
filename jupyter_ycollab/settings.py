"""The configuration the core sees: one frozen value built from the extension's traits."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from jupyter_core.paths import jupyter_data_dir


@dataclass(frozen=True)
class Settings:
    save_delay: float = 1.0
    max_save_delay: float = 10.0
    cleanup_delay: float = 60.0
    poll_interval: float = 1.0
    keepalive_interval: float = 15.0
    max_message_size: int = 512 * 1024 * 1024
    max_readonly_message_size: int = 1024 * 1024
    max_peer_buffer: int = 64 * 1024 * 1024
    peer_stall_timeout: float = 30.0
    max_server_buffer: int = 1024 * 1024 * 1024
    log_dir: Path = field(default_factory=lambda: Path(jupyter_data_dir()) / "ycollab" / "logs")
    log_commit_delay: float = 0.1
    log_max_bytes: int = 16 * 1024 * 1024
    max_awareness_state: int = 64 * 1024
    max_peers_per_room: int = 200
    max_rooms: int = 1000
    validate_updates: bool = True
    timeline_step: float = 1.0
