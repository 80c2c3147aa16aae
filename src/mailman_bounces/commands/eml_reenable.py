"""The ``reenable`` email command: the reply path of a warning.

A disabled-delivery warning's subject is ``reenable TOKEN - ...`` and it
comes from the list's -request address, so a plain reply (``Re: reenable
TOKEN - ...``) reaches Mailman's command runner, which tries the second word
of the subject when the first is not a command.
"""

from mailman.core.i18n import _
from mailman.interfaces.command import ContinueProcessing, IEmailCommand
from public import public
from zope.interface import implementer

from mailman_bounces.app.reenable import redeem


@public
@implementer(IEmailCommand)
class Reenable:
    """The email 'reenable' command."""

    name = 'reenable'
    argument_description = 'token'
    description = _('Re-enable delivery that was disabled because of '
                    'bounces, with the token from the warning.')
    short_description = description

    def process(self, mlist, msg, msgdata, arguments, results):
        """See `IEmailCommand`."""
        if not arguments:
            print(_('No re-enable token found'), file=results)
            return ContinueProcessing.no
        token = arguments[0].strip(':.,;')
        redeemed = redeem(token, mlist.list_id)
        if redeemed is None:
            print(_('The re-enable token is unknown, used or expired'),
                  file=results)
            return ContinueProcessing.no
        email = redeemed.email  # noqa: F841 - _() reads it from here
        print(_('Delivery to $email re-enabled'), file=results)
        # The member is told by the plugin's own notice.
        results.send_response = False
        return ContinueProcessing.no
