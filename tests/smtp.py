"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it is sent.

It can be told to answer a recipient or a message with an error, to require STARTTLS
and a login, to speak TLS from the first byte, to go down and to come back.
"""

from __future__ import annotations

import email
import email.policy
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.services import free_port

__all__ = ["Inbox", "free_port"]


@dataclass
class Received:
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes


@dataclass
class Inbox:
    """The server's handler and its switches."""

    port: int = field(default_factory=free_port)
    received: list[Received] = field(default_factory=list)
    data_answers: list[str] = field(default_factory=list)  # answers to DATA, in turn
    refused: dict[str, str] = field(default_factory=dict)  # recipient -> RCPT answer
    logins: list[tuple[str, str]] = field(default_factory=list)
    password: str | None = None  # require this password (after STARTTLS)
    tls: ssl.SSLContext | None = None  # offer STARTTLS with this, and require it
    implicit_tls: bool = False  # speak TLS from the first byte instead
    _controller: Controller | None = None

    def start(self) -> None:
        kwargs: dict[str, Any] = {}
        if self.tls is not None and self.implicit_tls:
            # aiosmtpd's session does not know the socket is TLS from the first byte
            # and would hold back AUTH: it is encrypted, so offer it
            kwargs.update(ssl_context=self.tls, auth_require_tls=False)
        elif self.tls is not None:
            kwargs.update(tls_context=self.tls, require_starttls=True)
        if self.password is not None:
            # (required only behind STARTTLS: aiosmtpd warns against requiring it where
            # it cannot see TLS, and the test checks the login took place anyway)
            kwargs.update(authenticator=self._authenticate, auth_required=not self.implicit_tls)
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **kwargs)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[EmailMessage]:
        return [r.message for r in self.received]

    async def handle_RCPT(
        self, _server: Any, _session: Any, envelope: Any, address: str, _options: Any
    ) -> str:
        if address in self.refused:
            return self.refused[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        if self.data_answers:
            return self.data_answers.pop(0)
        raw = envelope.original_content or envelope.content
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(Received(list(envelope.rcpt_tos), parsed, raw))
        return "250 Message accepted for delivery"

    def _authenticate(
        self, _server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = data.login.decode(), data.password.decode()
        self.logins.append((user, password))
        return AuthResult(success=password == self.password)
