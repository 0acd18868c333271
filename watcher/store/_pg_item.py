"""A new article stored on PostgreSQL in one statement.

The item, its paragraph hashes, LSH keys and URL aliases, and its entry closed: five
statements on SQLite, one round trip here (data-modifying CTEs). The settle step runs
once per article on one thread of the daemon, and each statement costs that thread
about half a millisecond of CPU in SQLAlchemy and the driver: this one is most of
the step's writes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, String, bindparam, exists, func, literal, select, update
from sqlalchemy.dialects import postgresql

from watcher.dedup.urls import URL_RULES_VERSION, url_hash
from watcher.store._rows import ENTRIES_TABLE, ITEMS_TABLE, NewItem, done_values
from watcher.store.models import Band, Paragraph, UrlAlias

__all__ = ["store_item_statement"]

_DONE_COLUMNS = list(done_values("filed", datetime.now(UTC), None, False, None))


@cache
def _statement(columns: tuple[str, ...]) -> Any:
    """Built once for the item columns given (``item_values``' keys)."""
    items = ITEMS_TABLE
    item = (
        postgresql.insert(items)
        .values({name: bindparam(f"i_{name}") for name in columns})
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(items.c.id)
        .cte("item")
    )
    paragraphs = _keys(Paragraph, "hash", String, item)
    bands = _keys(Band, "key", BigInteger, item)
    aliases = (
        postgresql.insert(UrlAlias)
        .from_select(
            ["url_hash", "url", "item_id", "rules_version"],
            select(
                func.unnest(bindparam("alias_hashes", type_=postgresql.ARRAY(String))),
                func.unnest(bindparam("alias_urls", type_=postgresql.ARRAY(String))),
                item.c.id,
                literal(URL_RULES_VERSION),
            ),
        )
        .on_conflict_do_nothing()
        .cte("aliases")
    )
    entries = ENTRIES_TABLE
    done = (
        update(entries)
        .where(entries.c.id == bindparam("entry_id"), exists(select(item.c.id)))
        .values(
            {
                **{name: bindparam(f"e_{name}") for name in _DONE_COLUMNS if name != "item_id"},
                "item_id": select(item.c.id).scalar_subquery(),
            }
        )
        .cte("done")
    )
    return select(item.c.id).add_cte(paragraphs, bands, aliases, done)


def _keys(model: Any, column: str, kind: Any, item: Any) -> Any:
    """The new item's paragraph hashes or LSH keys, given as one array."""
    values = func.unnest(bindparam(model.__tablename__, type_=postgresql.ARRAY(kind)))
    return (
        postgresql.insert(model)
        .from_select([column, "item_id"], select(values, item.c.id))
        .on_conflict_do_nothing()
        .cte(model.__tablename__)
    )


def store_item_statement(
    item: NewItem, values: dict[str, Any], entry_id: int, done: dict[str, Any]
) -> tuple[Any, dict[str, Any]]:
    """The statement and its parameters: the item's columns (``item_values``), its
    keys, and the columns that close its entry (``done_values``). It returns the item's
    id, or no row when an item with its URL key exists (and then writes nothing)."""
    urls = list(dict.fromkeys(item.aliases))
    return _statement(tuple(values)), {
        **{f"i_{name}": value for name, value in values.items()},
        Paragraph.__tablename__: list(dict.fromkeys(item.paragraph_hashes)),
        Band.__tablename__: list(dict.fromkeys(item.bands)),
        "alias_hashes": [url_hash(url) for url in urls],
        "alias_urls": urls,
        "entry_id": entry_id,
        **{f"e_{name}": done[name] for name in _DONE_COLUMNS if name != "item_id"},
    }
