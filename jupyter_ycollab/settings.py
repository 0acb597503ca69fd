"""The configuration the core sees: one frozen value built from the extension's traits."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    save_delay: float = 1.0
    max_save_delay: float = 10.0
    cleanup_delay: float = 60.0
    poll_interval: float = 1.0
    keepalive_interval: float = 15.0
    max_message_size: int = 512 * 1024 * 1024
    max_peer_buffer: int = 64 * 1024 * 1024
