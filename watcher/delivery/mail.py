"""Sending one message over SMTP, with the standard library's client.

STARTTLS or implicit TLS per ``[smtp]``, certificates verified (``ca_file`` adds a
private CA). Temporary failures (4xx answers, refused or dropped connections, time-outs)
are retried with doubling waits; permanent ones (5xx, TLS, login) are raised at once.
The password is passed in, never logged, and appears in no error message.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from collections.abc import Callable
from email.message import EmailMessage

from watcher.config import SmtpConfig
from watcher.errors import DeliveryError

__all__ = ["send_message"]

log = logging.getLogger(__name__)


def send_message(
    message: EmailMessage,
    smtp: SmtpConfig,
    password: str | None,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Deliver or raise DeliveryError; returns only once the server took the message."""
    if smtp.username and not password:
        raise DeliveryError(
            "smtp.username is set but WATCHER_SMTP_PASSWORD is empty", temporary=False
        )
    attempt = 0
    while True:
        try:
            _send_once(message, smtp, password)
            return
        except DeliveryError as exc:
            if not exc.temporary or attempt >= smtp.retries:
                raise
            wait = smtp.retry_seconds * 2**attempt
            log.warning(
                "smtp_retry",
                extra={"to": message["To"], "error": str(exc), "wait_seconds": wait},
            )
            sleep(wait)
            attempt += 1


def _send_once(message: EmailMessage, smtp: SmtpConfig, password: str | None) -> None:
    where = f"{smtp.host}:{smtp.port}"
    context = _tls_context(smtp)
    try:
        client: smtplib.SMTP
        if smtp.implicit_tls:
            client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        with client:
            if smtp.starttls:
                client.starttls(context=context)
            if smtp.username:
                client.login(smtp.username, password or "")
            client.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        answers = "; ".join(
            f"{rcpt}: {code} {_text(msg)}" for rcpt, (code, msg) in exc.recipients.items()
        )
        raise DeliveryError(
            f"{where} refused the recipient ({answers})",
            temporary=all(400 <= code < 500 for code in codes),
        ) from exc
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(
            f"{where} answered {exc.smtp_code} {_text(exc.smtp_error)}",
            temporary=400 <= exc.smtp_code < 500,
        ) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise DeliveryError(f"{where}: {exc} (check [smtp] starttls)", temporary=False) from exc
    except ssl.SSLError as exc:
        raise DeliveryError(f"{where}: TLS failed: {exc.reason or exc}", temporary=False) from exc
    except (smtplib.SMTPException, OSError) as exc:
        # dropped connections, refused connections, time-outs, unknown hosts
        detail = str(exc) or type(exc).__name__
        raise DeliveryError(f"{where}: {detail}", temporary=True) from exc


def _tls_context(smtp: SmtpConfig) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=str(smtp.ca_file) if smtp.ca_file else None)
    except (OSError, ssl.SSLError) as exc:
        raise DeliveryError(f"smtp.ca_file {smtp.ca_file}: {exc}", temporary=False) from exc


def _text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return " ".join(text.split())
