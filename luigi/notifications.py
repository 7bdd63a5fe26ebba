"""Error e-mails: configuration (``[email]``, ``[smtp]``, ``[sendgrid]``), formatting and delivery.

Back-ends (SMTP, SES, SendGrid, SNS) import their libraries only when used. Every function that
others patch (``send_email``, the back-ends, ``generate_email``, ``wrap_traceback``, ``email``) is
looked up as a module global at call time.
"""

from __future__ import annotations

import html
import logging
import os
import socket
import sys
from typing import Any, Iterable, Iterator

from luigi import parameter
from luigi.task import Config, Task

logger = logging.getLogger("luigi-interface")

DEFAULT_CLIENT_EMAIL = f"luigi-client@{socket.gethostname()}"


class TestNotificationsTask(Task):
    """Run ``luigi TestNotificationsTask --local-scheduler --email-force-send`` to try the e-mail path."""

    raise_in_complete = parameter.BoolParameter(description="If true, fail in complete() instead of run()")

    def run(self) -> None:
        raise ValueError("Testing notifications triggering")

    def complete(self) -> bool:
        if self.raise_in_complete:
            raise ValueError("Testing notifications triggering")
        return False


class email(Config):
    """``[email]``: whether, how and to whom error e-mails are sent."""

    force_send = parameter.BoolParameter(default=False, description="Send e-mail even from a tty")
    format = parameter.ChoiceParameter(
        default="plain",
        config_path=dict(section="core", name="email-type"),
        choices=("plain", "html", "none"),
        description="Format type for sent e-mails",
    )
    method = parameter.ChoiceParameter(
        default="smtp",
        config_path=dict(section="email", name="type"),
        choices=("smtp", "sendgrid", "ses", "sns"),
        description="Method for sending e-mail",
    )
    prefix = parameter.Parameter(
        default="", config_path=dict(section="core", name="email-prefix"), description="Prefix for subject lines of all e-mails"
    )
    receiver = parameter.Parameter(
        default="", config_path=dict(section="core", name="error-email"), description="Address to send error e-mails to"
    )
    traceback_max_length = parameter.IntParameter(default=5000, description="Max length for error traceback")
    sender = parameter.Parameter(
        default=DEFAULT_CLIENT_EMAIL,
        config_path=dict(section="core", name="email-sender"),
        description="Address to send e-mails from",
    )


class smtp(Config):
    """``[smtp]``: the SMTP server used by the ``smtp`` method."""

    host = parameter.Parameter(
        default="localhost", config_path=dict(section="core", name="smtp_host"), description="Hostname of smtp server"
    )
    local_hostname = parameter.OptionalParameter(
        default=None,
        config_path=dict(section="core", name="smtp_local_hostname"),
        description="If specified, local_hostname is used as the FQDN of the local host in the HELO/EHLO command",
    )
    no_tls = parameter.BoolParameter(
        default=False, config_path=dict(section="core", name="smtp_without_tls"), description="Do not use TLS in SMTP connections"
    )
    password = parameter.OptionalParameter(
        default=None, config_path=dict(section="core", name="smtp_password"), description="Password for the SMTP server login"
    )
    port = parameter.IntParameter(default=0, config_path=dict(section="core", name="smtp_port"), description="Port number for smtp server")
    ssl = parameter.BoolParameter(default=False, config_path=dict(section="core", name="smtp_ssl"), description="Use SSL for the SMTP connection.")
    timeout = parameter.FloatParameter(
        default=10.0,
        config_path=dict(section="core", name="smtp_timeout"),
        description="Number of seconds before timing out the smtp connection",
    )
    username = parameter.OptionalParameter(
        default=None, config_path=dict(section="core", name="smtp_login"), description="Username used to log in to the SMTP host"
    )


class sendgrid(Config):
    """``[sendgrid]``: credentials for the ``sendgrid`` method."""

    apikey = parameter.Parameter(config_path=dict(section="email", name="SENGRID_API_KEY"), description="API key for SendGrid login")


# ---------------------------------------------------------------------------------------------
# Formatting


def _normalize_images(images_png: Any) -> list | None:
    """One image path or a list/tuple of them -> list (``None`` stays ``None``)."""
    if images_png is None:
        return None
    if isinstance(images_png, (list, tuple)):
        return list(images_png)
    return [images_png]


def _iter_images(images_png: Any) -> Iterator[str]:
    return iter(_normalize_images(images_png) or ())


def wrap_traceback(traceback: Any) -> Any:
    """Traceback as HTML when e-mails are HTML (highlighted if pygments is installed), else unchanged."""
    if email().format != "html":
        return traceback
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonTracebackLexer
    except ImportError:
        return f"<pre>{html.escape(str(traceback), quote=False)}</pre>"
    return highlight(traceback, PythonTracebackLexer(), HtmlFormatter(noclasses=True))


def generate_email(sender: str, subject: str, message: str, recipients: list, image_png: Any = None, *, images_png: Any = None) -> Any:
    """Build the MIME message: body part, optional PNG attachments, then Subject/From/To headers."""
    from email.mime.image import MIMEImage
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText

    msg_root = MIMEMultipart("related")
    msg_root.attach(MIMEText(message, email().format, "utf-8"))
    for path in _iter_images(images_png if images_png is not None else image_png):
        with open(path, "rb") as fp:
            image = MIMEImage(fp.read(), "png")
        image.add_header("Content-Disposition", "attachment", filename=path.split("/")[-1])
        msg_root.attach(image)
    msg_root["Subject"] = subject
    msg_root["From"] = sender
    msg_root["To"] = ",".join(recipients)
    return msg_root


def _html_body(headline: str, name: str, str_params: dict, command: str, tb: str) -> str:
    esc = html.escape
    param_rows = "\n".join(f"<tr><th>{esc(k)}</th><td>{esc(str(v))}</td></tr>" for k, v in str_params.items())
    return (
        "\n<html>\n<body>\n"
        f"<h2>{esc(headline)}</h2>\n\n"
        '<table style="border-top: 1px solid black; border-bottom: 1px solid black">\n'
        f"<thead>\n<tr><th>name</th><td>{esc(name)}</td></tr>\n</thead>\n"
        f"<tbody>\n{param_rows}\n</tbody>\n</table>\n</pre>\n\n"
        f"<h2>Command line</h2>\n<pre>\n{esc(command)}\n</pre>\n\n"
        f"<h2>Traceback</h2>\n{tb}\n</body>\n</html>\n"
    )


def _plain_body(headline: str, name: str, str_params: dict, command: str, tb: str) -> str:
    width = max((len(key) for key in str_params), default=0)
    params = "\n".join(f"  {key.ljust(width)}: {value}" for key, value in str_params.items())
    return f"{headline}\n\nName: {name}\n\nParameters:\n{params}\n\nCommand line:\n  {command}\n\n{tb}\n"


def format_task_error(headline: str, task: Any, command: str, formatted_exception: str | None = None) -> str:
    """Body of a task error e-mail (plain or HTML per ``[email] format``)."""
    max_length = email().traceback_max_length
    if formatted_exception and len(formatted_exception) > max_length:
        formatted_exception = formatted_exception[:max_length] + "...Traceback exceeds max length and has been truncated."
    tb = wrap_traceback(formatted_exception) if formatted_exception else ""
    render = _html_body if email().format == "html" else _plain_body
    return render(headline, task.task_family, task.to_str_params(), command, tb)


# ---------------------------------------------------------------------------------------------
# Delivery


def send_email_smtp(sender: str, subject: str, message: str, recipients: list, image_png: Any = None) -> None:
    """Deliver through ``[smtp]``; connection and protocol errors are logged, not raised."""
    import smtplib

    cfg = smtp()
    kwargs: dict[str, Any] = {"host": cfg.host, "port": cfg.port, "local_hostname": cfg.local_hostname}
    if cfg.timeout:
        kwargs["timeout"] = cfg.timeout
    try:
        conn = smtplib.SMTP_SSL(**kwargs) if cfg.ssl else smtplib.SMTP(**kwargs)
        try:
            conn.ehlo_or_helo_if_needed()
            if conn.has_extn("starttls") and not cfg.no_tls:
                conn.starttls()
            if cfg.username and cfg.password:
                conn.login(cfg.username, cfg.password)
            msg = generate_email(sender, subject, message, recipients, image_png)
            conn.sendmail(sender, recipients, msg.as_string())
        finally:
            _quit_quietly(conn)
    except OSError as exception:
        logger.error("Not able to connect to smtp server: %s", exception)


def _quit_quietly(conn: Any) -> None:
    try:
        conn.quit()
    except Exception:  # the message is already sent or failed; closing is best effort
        pass


def send_email_ses(sender: str, subject: str, message: str, recipients: list, image_png: Any = None) -> None:
    """Deliver through Amazon SES (credentials from the standard boto3 chain)."""
    from boto3 import client as boto3_client

    client = boto3_client("ses")
    msg_root = generate_email(sender, subject, message, recipients, image_png)
    try:
        response = client.send_raw_email(Source=sender, Destinations=recipients, RawMessage={"Data": msg_root.as_string()})
    except Exception as exception:
        logger.error("Not able to send email through SES: %s", exception)
        raise
    logger.debug(
        "Message sent to SES.\nMessageId: {},\nRequestId: {},\nHTTPSStatusCode: {}".format(
            response["MessageId"], response["ResponseMetadata"]["RequestId"], response["ResponseMetadata"]["HTTPStatusCode"]
        )
    )


def send_email_sendgrid(sender: str, subject: str, message: str, recipients: list, image_png: Any = None) -> None:
    """Deliver through SendGrid using ``[sendgrid] apikey``."""
    import sendgrid as sendgrid_lib

    client = sendgrid_lib.SendGridAPIClient(sendgrid().apikey)
    to_send = sendgrid_lib.Mail(from_email=sender, to_emails=recipients, subject=subject)
    to_send.add_content(message, "text/html" if email().format == "html" else "text/plain")
    for path in _iter_images(image_png):
        with open(path, "rb") as fp:
            to_send.add_attachment(fp.read(), filename=os.path.basename(path))
    client.send(to_send)


def send_email_sns(sender: str, subject: str, message: str, topic_ARN: list, image_png: Any = None) -> None:
    """Publish to the SNS topic given as the first recipient (sender and images are ignored)."""
    from boto3 import resource as boto3_resource

    topic = boto3_resource("sns").Topic(topic_ARN[0])
    if len(subject) > 100:  # SNS subjects are limited to 100 characters
        subject = subject[0:48] + "..." + subject[-49:]
    response = topic.publish(Subject=subject, Message=message)
    logger.debug(
        "Message sent to SNS.\nMessageId: {},\nRequestId: {},\nHTTPSStatusCode: {}".format(
            response["MessageId"], response["ResponseMetadata"]["RequestId"], response["ResponseMetadata"]["HTTPStatusCode"]
        )
    )


def _stdout_is_tty() -> bool:
    isatty = getattr(sys.stdout, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except (ValueError, OSError):
        return False


def _email_disabled_reason() -> str | None:
    if email().format == "none":
        return "email format is 'none'"
    if email().force_send:
        return None
    if _stdout_is_tty():
        return "running from a tty"
    return None


def _clean_recipients(recipients: Iterable) -> list[str]:
    """Split comma-separated entries, strip, drop empties (a bare string counts as one entry)."""
    if isinstance(recipients, str):
        recipients = [recipients]
    cleaned = []
    for entry in recipients:
        if entry is None:
            continue
        cleaned.extend(part.strip() for part in entry.split(",") if part.strip())
    return cleaned


def send_email(subject: str, message: str, sender: str, recipients: Any, image_png: Any = None, *, images_png: Any = None) -> None:
    """Send an e-mail through the configured ``[email] method`` unless e-mail is disabled."""
    subject = _prefix(subject)
    if not recipients or recipients == (None,):
        return
    reason = _email_disabled_reason()
    if reason:
        logger.info("Not sending email to %r because %s", recipients, reason)
        return
    recipients = _clean_recipients(recipients)
    if not recipients:
        return
    logger.info("Sending email to %r", recipients)
    email_sender = {
        "ses": send_email_ses,
        "sendgrid": send_email_sendgrid,
        "smtp": send_email_smtp,
        "sns": send_email_sns,
    }[email().method]
    email_sender(sender, subject, message, recipients, images_png if images_png is not None else image_png)


def _email_recipients(additional_recipients: Any = None) -> list:
    receiver = email().receiver
    recipients = [receiver] if receiver else []
    if additional_recipients:
        if isinstance(additional_recipients, str):
            recipients.append(additional_recipients)
        else:
            recipients.extend(additional_recipients)
    return recipients


def send_error_email(subject: str, message: str, additional_recipients: Any = None) -> None:
    """E-mail ``[email] receiver`` (plus ``additional_recipients``, e.g. the task's owners)."""
    recipients = _email_recipients(additional_recipients)
    send_email(subject=subject, message=message, sender=email().sender, recipients=recipients)


def _prefix(subject: str) -> str:
    prefix = email().prefix
    return f"{prefix} {subject}" if prefix else subject
