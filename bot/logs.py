"""Logging set-up: one line per record on stderr, Slack tokens masked whatever logs them.

Our own modules never log tokens or pasted text; the filter is the second line of
defence for third-party messages (an exception text that quotes a request, say).
"""

from __future__ import annotations

import logging
import re

_TOKEN = re.compile(r"\b(xox[abposer]|xapp)-[A-Za-z0-9-]+")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _TOKEN.sub(lambda m: m.group(1) + "-***", message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactTokens())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
