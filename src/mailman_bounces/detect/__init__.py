"""Bounce detection engine: recognise bounces, delays, complaints and auto-replies.

Pure: depends on the standard library only (no Mailman), so it can run anywhere,
including the ``mailman-bounces scan`` command.

>>> from mailman_bounces.detect import detect
>>> report = detect(raw_bytes_or_email_message)      # doctest: +SKIP
>>> report.kind, [r.address for r in report.recipients]  # doctest: +SKIP
"""

from .address import clean_address, is_valid_address
from .engine import detect
from .message import MAX_INPUT_BYTES
from .reasons import REASONS, SEVERITY_RULES
from .report import Kind, Recipient, Report, Severity

__all__ = [
    'MAX_INPUT_BYTES',
    'REASONS',
    'SEVERITY_RULES',
    'Kind',
    'Recipient',
    'Report',
    'Severity',
    'clean_address',
    'detect',
    'is_valid_address',
]
