"""One module per bounce format: each exposes ``NAME`` and ``parse(mail) -> Finding | None``.

The order they are tried in is in :mod:`mailman_bounces.detect.registry`.
"""
