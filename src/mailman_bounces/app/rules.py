"""Classification rules: the site's and each list's, stored and applied.

The rules themselves (checking, matching) are pure
(`mailman_bounces.policy.rules`); this module keeps the lists' rules in
the database and hands the facts of a bounce to them, between detection
and registration: `rule_columns` is the one place a bounce recipient meets
the rules, whether the bounce came by mail (`mailman_bounces.app.intake`)
or from an ESP's webhook (`mailman_bounces.app.webhooks`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from email.message import Message
from email.utils import parseaddr
from typing import Any

from mailman.config import config
from mailman.utilities.datetime import now
from public import public
from sqlalchemy import delete, func, select

from mailman_bounces.app.classify import safe_detect
from mailman_bounces.config import site_config
from mailman_bounces.detect import Recipient
from mailman_bounces.model.rule import ListRule
from mailman_bounces.policy.rules import (
    MAX_LIST_RULES,
    MAX_TEXT,
    Rule,
    RuleError,
    apply_rules,
    make_rule,
)

log = logging.getLogger('mailman.bounce')

# Text parts read for the ``text`` field, at most.
_MAX_PARTS = 20


def _rule(row: ListRule) -> Rule:
    # Checked when made; made again here so that every rule in use went
    # through the same checks (and the same compiled-pattern cache).
    return make_rule(f'list:{row.id}', {
        'pattern': row.pattern, 'field': row.field, 'effect': row.effect,
        'reason': row.reason, 'severity': row.severity,
        'comment': row.comment})


@public
def list_rules(list_id: str) -> list[ListRule]:
    """The list's own rules, in the order they apply."""
    return list(config.db.store.execute(
        select(ListRule).where(ListRule.list_id == list_id)
        .order_by(ListRule.id)).scalars())


@public
def rules_for(list_id: str) -> list[Rule]:
    """Every rule applying to the list's bounces: the site's, then its own."""
    return [*site_config().rules, *(_rule(row) for row in
                                    list_rules(list_id))]


@public
def add_rule(list_id: str, values: Mapping[str, Any]) -> ListRule:
    """Check and store a rule of the list (raises `RuleError`)."""
    rule = make_rule('new', values)
    held = config.db.store.execute(
        select(func.count()).select_from(ListRule)
        .where(ListRule.list_id == list_id)).scalar_one()
    if held >= MAX_LIST_RULES:
        raise RuleError('rules', f'the list has {MAX_LIST_RULES} rules, '
                        'the most it may have; delete one first')
    row = ListRule(list_id=list_id, created=now(), **rule.as_dict())
    config.db.store.add(row)
    config.db.store.flush()
    return row


@public
def delete_rule(list_id: str, rule_id: int) -> bool:
    """Delete the list's rule `rule_id`; False if it has none such."""
    result = config.db.store.execute(delete(ListRule).where(
        ListRule.list_id == list_id, ListRule.id == rule_id))
    return result.rowcount == 1


def _part_text(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True) or b''
        return payload[:MAX_TEXT].decode(
            part.get_content_charset() or 'utf-8', 'replace')
    except (LookupError, ValueError, TypeError, AttributeError):
        # A broken part or an unknown charset reads as nothing.
        return ''


@public
def message_facts(msg: Message) -> dict[str, str | None]:
    """The fields of a bounce every recipient shares: its text parts and
    its sender."""
    texts, size = [], 0
    for number, part in enumerate(msg.walk()):
        if number >= _MAX_PARTS * 5 or len(texts) >= _MAX_PARTS \
                or size >= MAX_TEXT:
            break
        if part.get_content_type() != 'text/plain':
            continue
        text = _part_text(part)
        texts.append(text)
        size += len(text)
    sender = parseaddr(msg.get('from') or '')[1] or None
    return {'text': '\n'.join(texts)[:MAX_TEXT] or None, 'sender': sender}


@public
def recipient_facts(shared: Mapping[str, str | None],
                    recipient: Recipient | None) -> dict[str, str | None]:
    """The fields a rule may look at, for one recipient of a bounce."""
    return {**shared,
            'diagnostic': getattr(recipient, 'diagnostic', None),
            'status': getattr(recipient, 'status', None),
            'remote_mta': getattr(recipient, 'remote_mta', None)}


@public
def rule_columns(rules: Sequence[Rule], facts: Mapping[str, str | None],
                 email: str, list_id: str, where: str
                 ) -> dict[str, str] | None:
    """The event columns the first of `rules` matching `facts` sets on the
    event of one recipient (`email`) of a bounce, with the rule's name;
    ``{}`` when none matches, None when the rule says it is not a bounce.
    A match is logged, `where` naming the bounce."""
    outcome = apply_rules(rules, facts)
    if outcome.rule is None:
        return {}
    log.info('%s: rule %s (%s) for %s on %s', where, outcome.rule.name,
             outcome.rule.effect, email, list_id)
    if not outcome.registered:
        return None
    return {**outcome.changes, 'rule': outcome.rule.name}


@public
def try_rules(list_id: str, msg: Message) -> list[dict[str, Any]]:
    """What detection and the list's rules make of `msg`, per recipient,
    without registering anything (``mailman bounces rules test``)."""
    report = safe_detect(msg)
    rules = rules_for(list_id)
    shared = message_facts(msg)
    tried = []
    for recipient in report.recipients:
        outcome = apply_rules(rules, recipient_facts(shared, recipient))
        before = {'reason': recipient.reason,
                  'severity': recipient.severity.value}
        tried.append({
            'address': recipient.address, 'kind': report.kind.value,
            **before,
            'rule': outcome.rule.name if outcome.rule else None,
            'effect': outcome.rule.effect if outcome.rule else None,
            'registered': outcome.registered,
            'after': {**before, **outcome.changes},
        })
    return tried
