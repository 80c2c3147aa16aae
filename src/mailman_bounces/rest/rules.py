"""A list's classification rules: ``lists/<list>/rules[/<id>]``.

List owners' own rules; the site's (from the plugin configuration) are
shown too, first, as they apply first, without an id.
"""

from __future__ import annotations

from mailman.config import config
from mailman.rest.helpers import (
    bad_request,
    created,
    etag,
    no_content,
    okay,
)
from public import public

from mailman_bounces.app.queries.paging import Page
from mailman_bounces.app.rules import add_rule, delete_rule, list_rules
from mailman_bounces.config import site_config
from mailman_bounces.fields import LINK, RULE, Field, Shape, nullable
from mailman_bounces.model.rule import ListRule
from mailman_bounces.policy.rules import RuleError
from mailman_bounces.rest.helpers import (
    collection,
    path_to,
    request_values,
    row_by_id,
)


def _link(rule, list_id, api):
    if getattr(rule, 'id', None) is None:
        return None
    return path_to(api, f'lists/{list_id}/rules/{rule.id}')


# A rule resource, read from ``(rule, list_id, api)``.
RULE_RESOURCE = RULE + Shape(
    Field('self_link', nullable(LINK), 'null for a site rule.', read=_link),
)


@public
class ListRules:
    """/plugins/bounces/lists/<list>/rules"""

    def __init__(self, mlist):
        self._mlist = mlist

    def on_get(self, request, response):
        """The rules applying to the list's bounces, in order."""
        list_id = self._mlist.list_id
        rules = [*site_config().rules, *list_rules(list_id)]
        entries = [RULE_RESOURCE.values(rule, list_id, self.api)
                   for rule in rules]
        okay(response, etag(collection(
            Page(0, len(entries), entries), entries,
            path_to(self.api, f'lists/{list_id}/rules'))))

    def on_post(self, request, response):
        """Add a rule; a bad field is a 400 naming it."""
        try:
            values = request_values(request)
            row = add_rule(self._mlist.list_id, values)
        except RuleError as error:
            config.db.abort()
            bad_request(response, str(error))
            return
        except (TypeError, ValueError) as error:
            bad_request(response, str(error))
            return
        created(response, path_to(
            self.api, f'lists/{self._mlist.list_id}/rules/{row.id}'))


@public
class AListRule:
    """/plugins/bounces/lists/<list>/rules/<id>"""

    def __init__(self, mlist, identifier: str):
        self._mlist = mlist
        self._identifier = identifier

    def _row(self, response) -> ListRule | None:
        return row_by_id(ListRule, self._identifier, response, 'rule',
                         self._mlist.list_id)

    def on_get(self, request, response):
        """One of the list's rules."""
        row = self._row(response)
        if row is not None:
            okay(response, etag(RULE_RESOURCE.values(
                row, self._mlist.list_id, self.api)))

    def on_delete(self, request, response):
        """Delete the rule."""
        row = self._row(response)
        if row is not None:
            delete_rule(self._mlist.list_id, row.id)
            no_content(response)
