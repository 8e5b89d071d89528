"""What pyloader writes on stderr, as text lines or one JSON object per line.

Everything goes through the standard `logging` module under the `pyloader`
logger; `--log-format json` (or MASTERFILE_LOG_FORMAT=json) only swaps the
formatter, so a line a command logs is the same event in both formats. A JSON
line always has `time` (UTC, ISO 8601), `level`, `logger` and `message`, plus
any `extra=` fields the caller attached (a tenant, a count, a duration).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import sys

LOGGER = "pyloader"

# attributes every LogRecord has; anything else came in through `extra=`
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                doc[key] = value
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`2026-01-05 10:00:00 worker: ...`, as the worker has always written."""

    def __init__(self):
        super().__init__("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S")


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time: a progress display may redirect it."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


_format = "text"


def setup(fmt: str = "text", level: int = logging.INFO) -> None:
    """Send the `pyloader` loggers to stderr in `fmt` ('text' or 'json')."""
    global _format
    _format = fmt
    logger = logging.getLogger(LOGGER)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = _CurrentStderr()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


def get(name: str) -> logging.Logger:
    """A child of the `pyloader` logger: get('worker') is `pyloader.worker`."""
    return logging.getLogger(f"{LOGGER}.{name}")


def fail(message: str) -> None:
    """The one line a failing command leaves on stderr."""
    if _format == "json":
        get("cli").error(message)
    else:
        print(f"pyloader: {message}", file=sys.stderr, flush=True)
