"""The near-duplicate index: LSH keys of every stored text, kept under one version."""

from __future__ import annotations

import logging

from sqlalchemy import delete
from sqlmodel import col, select

from watcher.store._base import StoreBase, upsert
from watcher.store.models import Band, Item, Setting

log = logging.getLogger(__name__)

_SETTING = "near_index"
_BATCH = 500


class NearIndexMixin(StoreBase):
    def ensure_near_index(self) -> int:
        """Key every stored text under the current rule, if its keys were made under
        another one (or none: a database from before the index). Returns how many
        items were re-keyed; 0, at once, on every start after that.

        Only the lookup index changes: items, their file names and the corpus do not."""
        version = self.dedup.index_version
        with self._session() as session:
            if self._setting(session, _SETTING) == version:
                return 0
            session.execute(delete(Band))
            count, last = 0, 0
            while True:
                rows = session.exec(
                    select(Item.id, Item.text)
                    .where(col(Item.id) > last)
                    .order_by(col(Item.id))
                    .limit(_BATCH)
                ).all()
                if not rows:
                    break
                for item_id, text in rows:
                    assert item_id is not None
                    self._add_bands(session, item_id, self.dedup.band_keys(text))
                    last = item_id
                count += len(rows)
            # An upsert: two processes starting on one new database both get here
            session.execute(
                upsert(self.engine.dialect.name)(Setting)
                .values(name=_SETTING, value=version)
                .on_conflict_do_update(index_elements=["name"], set_={"value": version})
            )
            session.commit()
        log.info("near_index_rebuilt", extra={"items": count, "version": version})
        return count
