"""How many members each recipient domain has, on each list and site-wide.

Outage detection compares the members of a domain who bounce with all the
members at that domain.  Core's address table cannot be searched by domain
through an index (``LIKE '%@domain'`` reads every address), and at a busy
site many domains burst in every window: counting their members afresh on
every pass came to cost more than the rest of the pass.  The counts are
kept here instead (`mailman_bounces.app.domain_members`).
"""

from mailman.database.model import Model
from mailman.database.types import SAUnicode
from public import public
from sqlalchemy import Column, Integer

# The `list_id` of the site-wide counts (all lists' memberships together).
SITE = ''


@public
class DomainMembers(Model):
    """The members (role member) whose address is at `domain`."""

    __tablename__ = 'bounces_domain_members'

    list_id = Column(SAUnicode, primary_key=True)    # SITE: every list
    domain = Column(SAUnicode, primary_key=True)
    members = Column(Integer, nullable=False)
