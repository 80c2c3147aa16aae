"""What the bouncemail runner remembers about each mailbox it polls.

The state is in the database, like everything else the runners share: any
runner on any host may poll a mailbox next, and picks up where the last one
stopped (its folder's UIDVALIDITY and the last UID handled, the POP3
UIDLs already seen, the back-off after an error).
"""

from mailman.database.model import Model
from mailman.database.types import SAText
from public import public
from sqlalchemy import BigInteger, Boolean, Column, DateTime, Integer, Unicode


@public
class MailboxState(Model):
    """The polling state and counters of one ``[mailbox.NAME]``."""

    __tablename__ = 'bounces_mailbox'

    name = Column(Unicode(64), primary_key=True)
    # IMAP: the folder's UIDVALIDITY when last polled and the highest UID
    # handled (registered and moved) under it.
    uidvalidity = Column(BigInteger)
    last_uid = Column(BigInteger, nullable=False, default=0)
    last_poll = Column(DateTime)
    last_success = Column(DateTime)
    last_error = Column(SAText)
    # Consecutive failed polls, and when the next poll may happen.
    failures = Column(Integer, nullable=False, default=0)
    next_poll = Column(DateTime)
    seen = Column(Integer, nullable=False, default=0)
    registered = Column(Integer, nullable=False, default=0)
    unparsed = Column(Integer, nullable=False, default=0)


@public
class MailboxUIDL(Model):
    """A POP3 message already handled (by its UIDL)."""

    __tablename__ = 'bounces_mailbox_uidl'

    mailbox = Column(Unicode(64), primary_key=True)
    uidl = Column(Unicode(128), primary_key=True)
    # Registered as a bounce: delete it (again, if a crash undid the DELE).
    delete = Column(Boolean, nullable=False, default=False)
    seen = Column(DateTime, nullable=False)
