"""Transports behind one interface: `send(delivery)` delivers or raises one of two errors;
`close()` releases what a batch of sends kept open.

Transient errors (the server said try later, the network failed) are retried; permanent ones
(the server refused for good) mark the delivery failed. Slack or webhooks would sit beside these.
"""
from __future__ import annotations

import smtplib
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, parseaddr

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import Delivery, InAppNotification, User
from webapp.services.notifications.settings import NotificationSettings

# The digest's email bodies; rendered outside any request (sending runs in worker jobs), with
# HTML escaped as in the console's pages.
EMAIL_TEMPLATES = Environment(loader=PackageLoader("webapp", "templates"),
                              autoescape=select_autoescape(["html"]))


class TransientDeliveryError(Exception):
    """Worth trying again later."""


class PermanentDeliveryError(Exception):
    """Trying again will not help."""


class ServerUnavailable(TransientDeliveryError):
    """The transport cannot be reached at all: the rest of a batch need not try."""


def delivery_key(delivery: Delivery) -> str:
    """The outbox's unique key as one token: rule, recipient, channel and window start."""
    return (f"{delivery.rule_id}.{delivery.recipient_id}.{delivery.channel}."
            f"{delivery.window_start:%Y%m%dT%H%M%SZ}")


def digest_title(payload: dict) -> str:
    count = len(payload.get("lines", []))
    updates = "1 update" if count == 1 else f"{count} updates"
    return f"{payload['rule_name']}: {updates} ({payload['window']})"


class EmailChannel:
    name = "email"

    def __init__(self, session: Session, settings: NotificationSettings):
        self.session = session
        self.mail = settings.mail
        self._smtp: smtplib.SMTP | None = None
        self._parts: dict[tuple, tuple[MIMEText, MIMEText]] = {}

    def message_id(self, delivery: Delivery) -> str:
        domain = parseaddr(self.mail.mail_from)[1].rpartition("@")[2] or "localhost"
        # Derived from the delivery key, so a message sent twice (a worker killed between the
        # server's acceptance and the database update) carries the same Message-ID both times.
        return f"<delivery.{delivery_key(delivery)}@{domain}>"

    def _bodies(self, delivery: Delivery) -> tuple[MIMEText, MIMEText]:
        """The text and HTML parts, the same for every recipient of a window: built once a batch."""
        key = (delivery.rule_id, delivery.window_start)
        if key not in self._parts:
            digest = delivery.payload
            self._parts[key] = (
                MIMEText(_render("email/digest.txt", digest), "plain", "utf-8"),
                MIMEText(_render("email/digest.html", digest), "html", "utf-8"))
        return self._parts[key]

    def build(self, delivery: Delivery, recipient: User) -> MIMEMultipart:
        """A text and an HTML part (the classic MIME classes: much faster to build in bulk)."""
        message = MIMEMultipart("alternative")
        message["Subject"] = Header(digest_title(delivery.payload), "utf-8")
        message["From"] = self.mail.mail_from
        message["To"] = formataddr((recipient.name, recipient.email), "utf-8")
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = self.message_id(delivery)
        message["X-Delivery-Key"] = delivery_key(delivery)
        for part in self._bodies(delivery):
            message.attach(part)
        return message

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            try:
                smtp = smtplib.SMTP(self.mail.smtp_host, self.mail.smtp_port, timeout=10)
                if self.mail.smtp_starttls:
                    smtp.starttls()
                if self.mail.smtp_username:
                    smtp.login(self.mail.smtp_username, self.mail.smtp_password or "")
            except smtplib.SMTPResponseException as error:
                raise _classify(error) from error
            except (OSError, smtplib.SMTPException) as error:
                raise ServerUnavailable(f"SMTP server unreachable: {error}") from error
            self._smtp = smtp
        return self._smtp

    def send(self, delivery: Delivery) -> None:
        """Sends over a connection kept open for the rest of the batch (see close())."""
        recipient = delivery.recipient or self.session.get(User, delivery.recipient_id)
        message = self.build(delivery, recipient)
        smtp = self._connection()
        try:
            # As text: smtplib then ends every line with CRLF, as SMTP requires.
            smtp.sendmail(parseaddr(self.mail.mail_from)[1], [recipient.email],
                          message.as_string())
        except smtplib.SMTPRecipientsRefused as error:
            self.close()
            codes = [code for code, _ in error.recipients.values()]
            text = "; ".join(f"{code} {_decode(reply)}" for code, reply in error.recipients.values())
            if codes and all(code >= 500 for code in codes):
                raise PermanentDeliveryError(f"Recipient refused: {text}") from error
            raise TransientDeliveryError(f"Recipient deferred: {text}") from error
        except smtplib.SMTPResponseException as error:
            self.close()
            raise _classify(error) from error
        except TimeoutError as error:
            self.close()
            raise ServerUnavailable(f"SMTP server timed out: {error}") from error
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            raise TransientDeliveryError(f"SMTP failed: {error}") from error

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


def _render(name: str, digest: dict) -> str:
    return EMAIL_TEMPLATES.get_template(name).render(digest=digest)


def _classify(error: smtplib.SMTPResponseException) -> Exception:
    text = f"{error.smtp_code} {_decode(error.smtp_error)}"
    if error.smtp_code >= 500:
        return PermanentDeliveryError(f"SMTP server refused: {text}")
    return TransientDeliveryError(f"SMTP server deferred: {text}")


def _decode(value) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


class InAppChannel:
    """Writes the notification in the same transaction that marks the delivery sent."""

    name = "in_app"

    def __init__(self, session: Session, settings: NotificationSettings):
        self.session = session
        self.links = settings.links

    def send(self, delivery: Delivery) -> None:
        exists = self.session.scalar(select(InAppNotification.id)
                                     .where(InAppNotification.delivery_id == delivery.id))
        if exists is not None:
            return
        payload = delivery.payload
        body = "\n".join(line["text"] for line in payload.get("lines", []))
        self.session.add(InAppNotification(
            workspace_id=delivery.workspace_id, user_id=delivery.recipient_id,
            delivery_id=delivery.id, title=digest_title(payload)[:200], body=body,
            link=payload.get("link") or self._link(payload)))
        self.session.flush()

    def _link(self, payload: dict) -> str:
        """The app's page when the digest is about one app, the connected apps overview
        otherwise; as a path, so that it works behind any host name."""
        urls = {line["app_url"] for line in payload.get("lines") or []}
        url = urls.pop() if len(urls) == 1 else self.links.connected_apps()
        return self.links.path_of(url)

    def close(self) -> None:
        pass


CHANNEL_CLASSES = {"email": EmailChannel, "in_app": InAppChannel}


def channel_for(name: str, session: Session, settings: NotificationSettings):
    try:
        return CHANNEL_CLASSES[name](session, settings)
    except KeyError:
        raise PermanentDeliveryError(f"Unknown channel {name!r}") from None
