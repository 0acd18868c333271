"""Sending digests: one message per recipient, recorded only once the server took it.

A recipient's record (``digest_items``) is written in the same transaction as its
digest and only after the server accepted the message, so a failure marks nothing:
the next attempt, whenever it comes, holds everything this one held. A process killed
between the server's answer and the commit sends that digest again next time: once
too often rather than never.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from watcher.config import Config
from watcher.delivery.digest.content import build_digest
from watcher.delivery.digest.render import compose, render
from watcher.delivery.mail import send_message
from watcher.errors import DeliveryError
from watcher.services.lock import DIGEST_LOCK_NAME, pass_lock
from watcher.store import DigestRecord, Store

__all__ = ["Outcome", "deliver_digests", "send_digests"]

log = logging.getLogger(__name__)

PASSWORD_VARIABLE = "WATCHER_SMTP_PASSWORD"


@dataclass(frozen=True, slots=True)
class Outcome:
    recipient: str
    status: str  # sent | empty | failed
    items: int
    near_misses: int
    message_id: str | None = None
    error: DeliveryError | None = None


async def deliver_digests(
    store: Store,
    config: Config,
    *,
    now: datetime,
    slot: datetime | None,
    recipients: Sequence[str] | None = None,
    on_wait: Callable[[], None] | None = None,
) -> list[Outcome]:
    """``send_digests`` off the event loop, one sender at a time (the daemon's cron and
    a ``watcher digest --send`` by hand take the same lock, so neither sends twice)."""
    async with pass_lock(config.storage.corpus_dir, on_wait, name=DIGEST_LOCK_NAME):
        return await asyncio.to_thread(
            send_digests, store, config, now=now, slot=slot, recipients=recipients
        )


def send_digests(
    store: Store,
    config: Config,
    *,
    now: datetime,
    slot: datetime | None,
    recipients: Sequence[str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Outcome]:
    """Each recipient's digest, built, sent and recorded; one failing does not stop
    the others."""
    password = os.environ.get(PASSWORD_VARIABLE) or None
    outcomes = []
    for recipient in config.digest.recipients if recipients is None else recipients:
        outcome = _send_one(store, config, recipient, now, slot, password, sleep)
        outcomes.append(outcome)
        log.info(
            "digest_" + outcome.status,
            extra={
                "to": recipient,
                "items": outcome.items,
                "near_misses": outcome.near_misses,
                "message_id": outcome.message_id,
                "error": str(outcome.error) if outcome.error else None,
            },
        )
    return outcomes


def _send_one(
    store: Store,
    config: Config,
    recipient: str,
    now: datetime,
    slot: datetime | None,
    password: str | None,
    sleep: Callable[[float], None],
) -> Outcome:
    digest = build_digest(store, config, recipient=recipient, now=now)
    record = DigestRecord(
        recipient=recipient,
        slot=slot,
        selected_at=now,
        status="empty",
        item_ids=digest.item_ids,
        near_miss_ids=digest.near_miss_ids,
    )
    counts = (len(digest.item_ids), len(digest.near_miss_ids))
    if digest.count == 0 and not config.digest.send_empty:
        store.record_digest(record)
        return Outcome(recipient, "empty", *counts)
    message = compose(
        render(digest, config.digest.subject),
        sender=config.digest.sender,
        recipient=recipient,
        now=now,
    )
    try:
        send_message(message, config.smtp, password, sleep=sleep)
    except DeliveryError as exc:
        store.record_digest(replace(record, status="failed", error=str(exc)))
        return Outcome(recipient, "failed", *counts, error=exc)
    sent = replace(record, status="sent", sent_at=now, message_id=message["Message-ID"])
    store.record_digest(sent)
    return Outcome(recipient, "sent", *counts, message_id=message["Message-ID"])
