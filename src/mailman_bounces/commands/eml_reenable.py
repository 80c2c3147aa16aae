"""The ``reenable`` email command: the reply path of a warning.

A disabled-delivery warning's subject is ``reenable TOKEN - ...`` and it
comes from the list's -request address, so a plain reply (``Re: reenable
TOKEN - ...``) reaches Mailman's command runner, which tries the second word
of the subject when the first is not a command.
"""

from mailman.interfaces.command import ContinueProcessing, IEmailCommand
from public import public
from zope.interface import implementer

from mailman_bounces.app.notices import queue_notice
from mailman_bounces.app.reenable import redeem_token, reenable_member


@public
@implementer(IEmailCommand)
class Reenable:
    """The email 'reenable' command."""

    name = 'reenable'
    argument_description = 'token'
    description = ('Re-enable delivery that was disabled because of '
                   'bounces, with the token from the warning.')
    short_description = description

    def process(self, mlist, msg, msgdata, arguments, results):
        """See `IEmailCommand`."""
        if not arguments:
            print('No re-enable token found', file=results)
            return ContinueProcessing.no
        token = arguments[0].strip(':.,;')
        redeemed = redeem_token(token)
        if redeemed is None or redeemed[0].list_id != mlist.list_id:
            print('The re-enable token is unknown, used or expired',
                  file=results)
            return ContinueProcessing.no
        _, member = redeemed
        reenable_member(member)
        email = member.address.email
        queue_notice('reenabled', list_id=mlist.list_id, email=email,
                     member_id=member.id)
        print(f'Delivery to {email} re-enabled', file=results)
        # The member is told by the plugin's own notice.
        results.send_response = False
        return ContinueProcessing.no
