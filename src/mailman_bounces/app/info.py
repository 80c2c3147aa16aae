"""What ``mailman info`` says about the plugin.

Mailman's plugin API cannot add to core commands (a plugin command with a
core command's name is an error), so the plugin wraps the callback of
core's ``info`` command (`extend_info_command`, from its ``pre_hook``) to
print its own lines (`plugin_summary`) after core's.
"""

from __future__ import annotations

from mailman.config import config
from mailman.interfaces.bounce import IBounceProcessor
from public import public
from zope.component import getUtility

from mailman_bounces import __version__


@public
def plugin_summary(name: str = 'bounces') -> list[str]:
    """What ``mailman info`` prints about the plugin."""
    from mailman_bounces.database.schema import current_revision, head_revision
    processor = getUtility(IBounceProcessor)
    lines = [
        f'plugin {name}: mailman-bounces {__version__} (enabled)',
        f'bounce processor: {type(processor).__module__}.{type(processor).__name__}',
    ]
    if config.db is not None:
        with config.db.engine.connect() as connection:
            current = current_revision(connection)
        lines.append(f'bounces schema: {current} (latest {head_revision()})')
    return lines


@public
def extend_info_command(name: str) -> None:
    """Make ``mailman info`` say that plugin `name` is enabled (once)."""
    from mailman.commands.cli_info import info
    original = info.callback
    if getattr(original, 'mailman_bounces', False):
        return

    def callback(output, verbose):
        original(output, verbose)
        for line in plugin_summary(name):
            print(line, file=output)
    callback.mailman_bounces = True
    info.callback = callback
