"""The keys signing the plugin's return paths."""

from mailman.database.model import Model
from public import public
from sqlalchemy import Column, DateTime, Integer, Unicode


@public
class VerpKey(Model):
    """One signing key.  The newest key signs; every key whose ``retires``
    is empty or still ahead verifies (so that mail signed before a
    rotation can still bounce)."""

    __tablename__ = 'bounces_verp_key'

    # The key id written into every token (small: base32, a character or
    # two).
    id = Column(Integer, primary_key=True)
    # 32 random bytes, hex.
    secret = Column(Unicode(64), nullable=False)
    created = Column(DateTime, nullable=False)
    retires = Column(DateTime)
