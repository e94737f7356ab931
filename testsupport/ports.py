"""Ports on 127.0.0.1 for servers started by tests and benchmarks."""
from __future__ import annotations

import socket


def free_port() -> int:
    """A port nothing listens on now (the kernel picks it), e.g. for a server about to start,
    or for a connection that must be refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
