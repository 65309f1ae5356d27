"""Keep the query workers off the network.

SPARQL ``SERVICE`` makes Oxigraph send HTTP requests, and pyoxigraph offers no switch to
turn that off. The endpoint refuses such queries before they run (:mod:`kg.query.safety`); as a
second line, each query worker drops its right to open Internet sockets before it loads the
store, with a seccomp filter (Linux, through libseccomp): ``socket()`` for IPv4 and IPv6
fails with ``EPERM`` in that process from then on. The worker already holds the one socket
it needs, a Unix socket pair to the server.
"""

from __future__ import annotations

import errno
import socket

__all__ = ["deny_network"]


def deny_network() -> str | None:
    """Forbid this process (and any child it starts) to open IPv4 or IPv6 sockets.

    The filter cannot be lifted once loaded. Call it only in a process of its own.

    :returns: ``None`` once the filter is in place, else why it could not be (not Linux, or
        libseccomp not installed), for the caller to report
    """
    try:
        import pyseccomp
    except (ImportError, OSError, RuntimeError) as error:  # no libseccomp on this system
        return f"no seccomp here ({error})"
    sandbox = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
    for family in (socket.AF_INET, socket.AF_INET6):
        sandbox.add_rule(pyseccomp.ERRNO(errno.EPERM), "socket", pyseccomp.Arg(0, pyseccomp.EQ, family))
    try:
        sandbox.load()
    except OSError as error:
        return f"the seccomp filter could not be loaded ({error})"
    return None
