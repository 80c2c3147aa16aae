"""The tables of ESP webhooks (inbound) and callbacks (outbound)."""

from mailman.database.model import Model
from mailman.database.types import SAText, SAUnicode
from public import public
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    Unicode,
    UniqueConstraint,
)


@public
class WebhookSeen(Model):
    """What the listener must never take twice: a provider's event id
    (retries and replays count once), a Mailgun token (a replay is
    refused), a SparkPost batch id (a retried batch is acknowledged)."""

    __tablename__ = 'bounces_webhook_seen'
    __table_args__ = (
        UniqueConstraint('provider', 'kind', 'key',
                         name='uq_bounces_webhook_seen'),
        Index('ix_bounces_webhook_seen_received', 'received'),
    )

    id = Column(Integer, primary_key=True)
    provider = Column(Unicode(16), nullable=False)
    kind = Column(Unicode(8), nullable=False)
    key = Column(Unicode(255), nullable=False)
    endpoint = Column(SAUnicode, nullable=False)
    received = Column(DateTime, nullable=False)


@public
class CallbackEndpoint(Model):
    """A list's callback receiver (site-wide ones are configured in the
    plugin's configuration)."""

    __tablename__ = 'bounces_callback_endpoint'
    __table_args__ = (
        Index('ix_bounces_callback_endpoint_list', 'list_id'),
    )

    id = Column(Integer, primary_key=True)
    list_id = Column(SAUnicode, nullable=False)
    url = Column(SAText, nullable=False)
    secret = Column(SAUnicode, nullable=False)
    # Space-separated event names.
    events = Column(SAText, nullable=False)
    allow_private = Column(Boolean, nullable=False, default=False)
    enabled = Column(Boolean, nullable=False, default=True)
    # Why it was disabled (a 410 answer), if it was.
    disabled_reason = Column(SAText)
    created = Column(DateTime, nullable=False)


@public
class Callback(Model):
    """One callback to deliver to one endpoint: the durable outbox, written
    in the transaction of the change it reports."""

    __tablename__ = 'bounces_callback'
    __table_args__ = (
        # One event id is sent to one endpoint once.
        UniqueConstraint('endpoint', 'webhook_id',
                         name='uq_bounces_callback_delivery'),
        Index('ix_bounces_callback_due', 'state', 'next_attempt'),
    )

    id = Column(Integer, primary_key=True)
    # The Standard Webhooks message id (webhook-id header).
    webhook_id = Column(Unicode(64), nullable=False)
    # 'site:<name>' or 'list:<endpoint id>'.
    endpoint = Column(Unicode(80), nullable=False)
    event_type = Column(Unicode(32), nullable=False)
    list_id = Column(SAUnicode)
    payload = Column(SAText, nullable=False)
    created = Column(DateTime, nullable=False)
    # pending, delivered or dead.
    state = Column(Unicode(16), nullable=False, default='pending')
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt = Column(DateTime, nullable=False)
    last_status = Column(Integer)
    last_error = Column(SAText)
    delivered_at = Column(DateTime)


@public
class SiteCallbackDisabled(Model):
    """A site-wide callback endpoint (a ``[callback.NAME]`` section) that
    answered 410 Gone: the configuration cannot record it, so the database
    does, until a site admin enables it again
    (``mailman bounces callbacks enable site:NAME``)."""

    __tablename__ = 'bounces_callback_site_disabled'
    __table_args__ = (
        UniqueConstraint('name', name='uq_bounces_callback_site_disabled'),
    )

    id = Column(Integer, primary_key=True)
    name = Column(Unicode(64), nullable=False)
    reason = Column(SAText, nullable=False)
    disabled_at = Column(DateTime, nullable=False)
