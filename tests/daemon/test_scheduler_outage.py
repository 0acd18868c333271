"""The scheduler's tick when the database goes away while it is working with the queue."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from procrastinate.exceptions import ConnectorException
from psycopg_pool import PoolTimeout

from tests.conftest import write_config
from tests.services import allow_connections
from watcher.config import load_config
from watcher.scale import scheduler
from watcher.scale.scheduler import Dispatcher
from watcher.store import Store


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_tick_that_loses_the_queue_fails_instead_of_waiting_out_the_outage(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    """The outage starts after the tick's first queries, while it asks the queue for
    stalled jobs: psycopg_pool's default held it there for 30 s, through a whole outage
    in the scale test, and the scheduler logged no failed tick. It fails after
    ``_QUEUE_CONNECT_WAIT`` instead, and the next tick says why (the scale test)."""
    path = write_config(
        tmp_path / "w.toml",
        database_url=database_url,
        corpus=tmp_path / "corpus",
        sources=[{"name": "S", "url": "http://127.0.0.1:9/feed.xml"}],
    )
    dispatcher = Dispatcher(load_config(path, environ={}))
    hang = scheduler._QUEUE_CONNECT_WAIT * 5  # well under psycopg_pool's 30 s

    async def lose_the_queue() -> None:
        await dispatcher.start(store)
        try:
            allow_connections(database_url, False)
            with pytest.raises(ConnectorException) as failed:
                await asyncio.wait_for(dispatcher._requeue_stalled(), hang)
            assert isinstance(failed.value.__cause__, PoolTimeout)
        finally:
            allow_connections(database_url, True)
            await dispatcher.close()

    asyncio.run(lose_the_queue())
