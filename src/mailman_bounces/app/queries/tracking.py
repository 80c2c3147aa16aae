"""Tracked posts and their copies: listing them, and their shapes."""

from __future__ import annotations

from collections import defaultdict

from mailman.config import config
from public import public
from sqlalchemy import func, select

from mailman_bounces.app.queries.lists import unmatchable
from mailman_bounces.app.queries.paging import Page, paginate
from mailman_bounces.fields import (
    BOOLEAN,
    COUNT,
    INTEGER,
    STRING,
    TIME,
    Field,
    Shape,
    choice,
    nullable,
)
from mailman_bounces.model.tracking import TrackedDelivery, TrackedPost
from mailman_bounces.policy.settings import TRACKING_MODES
from mailman_bounces.policy.tracking import COUNTS, STATES, Copy, count_groups

__all__ = [
    'COPY_FIELDS',
    'POST_FIELDS',
    'PostCounts',
    'find_copies',
    'find_post',
    'find_posts',
]


@public
class PostCounts:
    """A tracked post and the counts of its copies (`COUNTS`)."""

    def __init__(self, post: TrackedPost, counts: dict[str, int]) -> None:
        self.post = post
        self.counts = counts


def _counted(name: str, doc: str) -> Field:
    return Field(name, COUNT, doc, read=lambda row, *_: row.counts[name])


_COUNT_DOCS = {
    'recipients': 'Copies sent.',
    'delivered': 'Copies the final mailbox took (success DSN).',
    'relayed': 'Copies handed to a next hop without DSN, or expanded to '
               'an alias: the last word that will come.',
    'delayed': 'Copies whose delivery is delayed, so far.',
    'failed': 'Copies that failed (failure DSN, or refused at SMTP time).',
    'displayed': 'Copies whose reader sent a "displayed" read receipt.',
    'no_answer': 'Copies nothing came back about (many clients never send '
                 'read receipts, many relays no DSN).',
}
assert tuple(_COUNT_DOCS) == COUNTS

# What a tracked post shows, read from a `PostCounts`.
POST_FIELDS = Shape(
    Field('message_id', STRING, read=lambda row, *_: row.post.message_id),
    Field('list_id', STRING, read=lambda row, *_: row.post.list_id),
    Field('subject', nullable(STRING),
          read=lambda row, *_: row.post.subject),
    Field('mode', choice(TRACKING_MODES[1:]),
          'The tracking the post was sent with.',
          read=lambda row, *_: row.post.mode),
    Field('sent_at', TIME, read=lambda row, *_: row.post.sent_at),
    *(_counted(name, doc) for name, doc in _COUNT_DOCS.items()),
)

# What one recipient's copy shows, read from a `TrackedDelivery`.
COPY_FIELDS = Shape(
    Field('email', STRING),
    Field('delivery_id', INTEGER, 'The id its signed token names.',
          read=lambda row, *_: row.id),
    Field('sent_at', TIME),
    Field('dsn_supported', BOOLEAN,
          'Whether the relay advertised DSN (without it, only failures '
          'can come back).'),
    Field('state', choice(STATES)),
    Field('state_at', TIME, 'When the reporter says the state began.'),
    Field('status', nullable(STRING), "The last DSN's status (or SMTP "
          'reply code).'),
    Field('diagnostic', nullable(STRING)),
    Field('disposition', nullable(STRING),
          "The last read receipt's disposition (displayed, deleted ...)."),
    Field('disposition_at', nullable(TIME)),
)


def _counts(post_ids: list[int]) -> dict[int, dict[str, int]]:
    """The counts of each post, with one grouped query."""
    groups = defaultdict(list)
    if post_ids:
        delivery = TrackedDelivery
        rows = config.db.store.execute(
            select(delivery.post_id, delivery.state, delivery.disposition,
                   func.count())
            .where(delivery.post_id.in_(post_ids))
            .group_by(delivery.post_id, delivery.state,
                      delivery.disposition))
        for post_id, state, disposition, number in rows:
            groups[post_id].append((Copy(state, disposition), number))
    return {post_id: count_groups(groups[post_id]) for post_id in post_ids}


@public
def find_posts(list_id: str, count: int | None = None,
               page: int | None = None) -> Page:
    """The list's tracked posts, newest first; rows are `PostCounts`."""
    where = TrackedPost.list_id == list_id
    found = paginate(
        select(TrackedPost).where(where)
        .order_by(TrackedPost.sent_at.desc(), TrackedPost.id.desc()),
        select(func.count()).select_from(TrackedPost).where(where),
        count, page)
    posts = [row[0] for row in found.rows]
    counts = _counts([post.id for post in posts])
    return Page(found.start, found.total_size,
                [PostCounts(post, counts[post.id]) for post in posts])


@public
def find_post(list_id: str, message_id: str) -> PostCounts | None:
    """The list's tracked post of `message_id` (with or without its angle
    brackets), or None."""
    bare = message_id.strip().strip('<>')
    if unmatchable(bare):
        # No query: MariaDB refuses to compare with such a text (a 500).
        return None
    post = config.db.store.execute(select(TrackedPost).where(
        TrackedPost.list_id == list_id,
        TrackedPost.message_id.in_([f'<{bare}>', bare]))).scalars().first()
    if post is None:
        return None
    return PostCounts(post, _counts([post.id])[post.id])


@public
def find_copies(post: TrackedPost, count: int | None = None,
                page: int | None = None) -> Page:
    """The post's copies by recipient address; rows are deliveries."""
    where = TrackedDelivery.post_id == post.id
    found = paginate(
        select(TrackedDelivery).where(where).order_by(TrackedDelivery.email),
        select(func.count()).select_from(TrackedDelivery).where(where),
        count, page)
    return Page(found.start, found.total_size,
                [row[0] for row in found.rows])
