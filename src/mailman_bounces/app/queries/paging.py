"""Paging a listing like Mailman's collections."""

from __future__ import annotations

from dataclasses import dataclass

from mailman.config import config
from public import public

from mailman_bounces.validators import MAX_INTEGER

# The paging of the REST collections, as their OpenAPI description says:
# a page holds DEFAULT_COUNT rows unless ``count`` says otherwise, and
# never more than MAX_COUNT (so that no request reads a whole table: 22k
# events took 5.8 s and 18.9 MB in one response).  No listing has more
# rows than there are 32-bit ids, so no page past MAX_PAGE can hold any.
DEFAULT_COUNT = 50
MAX_COUNT = 500
MAX_PAGE = MAX_INTEGER


@public
@dataclass
class Page:
    """One page of a listing: where it starts, the size of the whole
    listing and the rows of the page."""

    start: int
    total_size: int
    rows: list


@public
def page_window(total: int, count: int | None, page: int | None
            ) -> tuple[int, int]:
    """The first row and number of rows of `page` in a listing of
    `total` rows (see `paginate`)."""
    page = 1 if page is None else page
    if count is None:
        start = 0 if page == 1 else total
        return start, total - start
    start = (page - 1) * count
    return start, min(count, total - start)


@public
def paginate(query, count_query, count: int | None = None,
             page: int | None = None) -> Page:
    """Page `query` like Mailman's CollectionMixin: ``count`` rows per page,
    pages numbered from 1.  Without `count` the whole listing is page 1.

    Only the rows of the page are read; a page past the end reads nothing
    (so a huge page number never reaches the database as an OFFSET).
    """
    total = config.db.store.execute(count_query).scalar_one()
    start, limit = page_window(total, count, page)
    if limit <= 0:
        return Page(start, total, [])
    rows = config.db.store.execute(query.offset(start).limit(limit)).all()
    return Page(start, total, rows)


@public
def paginate_keys(keys, order: tuple, count_query,
                  count: int | None = None,
                  page: int | None = None) -> tuple[int, int, list]:
    """``(start, total, ids)``: the ids (the one column of the `keys`
    query) of a page of a listing sorted by `order` (columns, descending,
    the last one unique), paged like `paginate`.

    Made for big tables: skipping to a page reads only the index entries
    of the rows before it (an index on the filtered columns and `order`
    covers the query), not the rows; and a page in the back half of the
    listing is read from its end, in ascending order, so no page skips
    more than half the listing.  The caller reads the rows of the ids.
    """
    total = config.db.store.execute(count_query).scalar_one()
    start, limit = page_window(total, count, page)
    if limit <= 0:
        return start, total, []
    if start + limit <= total - start:
        query = keys.order_by(*(column.desc() for column in order)
                              ).offset(start)
        ids = config.db.store.execute(query.limit(limit)).scalars().all()
    else:
        # The same rows, since `order` is total (rows written between the
        # two statements shift pages either way, as with any OFFSET).
        query = keys.order_by(*(column.asc() for column in order)
                              ).offset(total - start - limit)
        ids = config.db.store.execute(query.limit(limit)).scalars().all()
        ids.reverse()
    return start, total, ids
