"""The plugin's database tables.

Importing this package registers every table on Mailman's model metadata, so
the test suite's database reset and core's fresh-database creation cover
them.  Existing databases get them from `mailman_bounces.database.schema`.
"""

from mailman_bounces.model.domain_members import DomainMembers
from mailman_bounces.model.event import BounceEvent, StoredBounce
from mailman_bounces.model.event_day import EventDay
from mailman_bounces.model.freeze import OutageFreeze
from mailman_bounces.model.hooks import (
    Callback,
    CallbackEndpoint,
    SiteCallbackDisabled,
    WebhookSeen,
)
from mailman_bounces.model.lease import Lease
from mailman_bounces.model.mailbox import MailboxState, MailboxUIDL
from mailman_bounces.model.member import MemberBounceState
from mailman_bounces.model.notice import Notice
from mailman_bounces.model.rule import ListRule
from mailman_bounces.model.settings import ListBounceSettings
from mailman_bounces.model.tracking import (
    ReceivedReport,
    TrackedDelivery,
    TrackedPost,
)
from mailman_bounces.model.traffic import ListTraffic
from mailman_bounces.model.verp_key import VerpKey

__all__ = [
    'BounceEvent',
    'Callback',
    'CallbackEndpoint',
    'DomainMembers',
    'EventDay',
    'Lease',
    'ListBounceSettings',
    'ListRule',
    'ListTraffic',
    'MailboxState',
    'MailboxUIDL',
    'MemberBounceState',
    'Notice',
    'OutageFreeze',
    'ReceivedReport',
    'SiteCallbackDisabled',
    'StoredBounce',
    'TrackedDelivery',
    'TrackedPost',
    'VerpKey',
    'WebhookSeen',
]

# The names of the plugin's tables, in creation order.
TABLES = (
    'bounces_message',
    'bounces_event',
    'bounces_list_settings',
    'bounces_member',
    'bounces_freeze',
    'bounces_list_traffic',
    'bounces_notice',
    'bounces_lease',
    'bounces_domain_members',
    'bounces_verp_key',
    'bounces_webhook_seen',
    'bounces_callback_endpoint',
    'bounces_callback',
    'bounces_mailbox',
    'bounces_mailbox_uidl',
    'bounces_rule',
    'bounces_tracked_post',
    'bounces_tracked_delivery',
    'bounces_tracking_report',
    'bounces_callback_site_disabled',
    'bounces_event_day',
)
