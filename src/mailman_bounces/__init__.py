"""mailman-bounces: bounce detection, scoring and actions for GNU Mailman 3."""

__version__ = '0.1.0'
