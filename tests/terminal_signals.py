"""Nested runs that are sent a stopping signal start as from a terminal, whatever launched the self-tests."""

from __future__ import annotations

import signal


def as_from_a_terminal() -> None:
    """``preexec_fn`` of a nested run a test will signal: SIGINT, SIGHUP and SIGTERM at their defaults.

    A suite started in the background of a non-interactive shell (``cmd &``) passes SIGINT on ignored, one started
    under ``nohup`` SIGHUP; Python and the plugin rightly leave a signal someone chose to ignore alone
    (core.signals), so the signal the test sends would be waited for in vain.
    """
    for signum in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)
