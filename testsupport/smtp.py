"""An SMTP server on loopback (aiosmtpd) that keeps every message it accepts.

Answers can be scripted (`reply_with("451 4.3.0 Try again later")`) to play a relay that defers or
refuses. Run as a process of its own, it writes each accepted message's Message-ID to a file:

    python -m testsupport.smtp PORT FILE
"""
from __future__ import annotations

import sys
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from typing import Callable

from testsupport.ports import free_port

ACCEPTED = "250 Message accepted for delivery"


class SmtpSink:
    def __init__(self, port: int | None = None,
                 on_accept: Callable[[bytes], None] | None = None):
        from aiosmtpd.controller import Controller

        self.port = port or free_port()
        self._on_accept = on_accept
        self._lock = threading.Lock()
        self._accepted: list[tuple[bytes, list[str]]] = []  # (raw message, recipients)
        self._replies: list[str] = []
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    def start(self) -> "SmtpSink":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def reply_with(self, *replies: str) -> None:
        """The answers to the next messages, in order ("250 ..." accepts); then all are accepted."""
        with self._lock:
            self._replies.extend(replies)

    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content or envelope.content
        with self._lock:
            reply = self._replies.pop(0) if self._replies else ACCEPTED
            if reply.startswith("250"):
                self._accepted.append((content, list(envelope.rcpt_tos)))
        if reply.startswith("250") and self._on_accept is not None:
            self._on_accept(content)
        return reply

    @property
    def count(self) -> int:
        """How many messages were accepted (cheaper than parsing them all)."""
        with self._lock:
            return len(self._accepted)

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            accepted = list(self._accepted)
        return [message_from_bytes(content, policy=policy.default) for content, _ in accepted]

    def wait_for(self, predicate: Callable[[EmailMessage, list[str]], bool],
                 timeout: float = 20) -> EmailMessage:
        """The first accepted message for which predicate(message, recipients) holds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                accepted = list(self._accepted)
            for content, recipients in accepted:
                message = message_from_bytes(content, policy=policy.default)
                if predicate(message, recipients):
                    return message
            time.sleep(0.1)
        raise AssertionError(f"no matching email within {timeout}s; got subjects "
                             f"{[m['Subject'] for m in self.messages]}")


def main(argv: list[str]) -> None:
    port, path = int(argv[1]), argv[2]
    with open(path, "a", buffering=1) as out:
        parser = BytesHeaderParser()
        SmtpSink(port, on_accept=lambda content: out.write(
            parser.parsebytes(content)["Message-ID"] + "\n")).start()
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    main(sys.argv)
