"""Error e-mails delivered to a real SMTP server on loopback (aiosmtpd), and their exact layouts."""

from __future__ import annotations

import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller
from cli_support import run_luigi

import luigi
import luigi.notifications as notifications


class _Inbox:
    """aiosmtpd handler that keeps every accepted message."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_inbox(tmp_path):
    """A loopback SMTP server plus a luigi.cfg pointing [smtp] at it with forced sending."""
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    (tmp_path / "luigi.cfg").write_text(
        "[email]\nforce_send = true\nreceiver = ops@example.com, oncall@example.com\nsender = luigi@example.com\n"
        f"prefix = [LUIGI]\n[smtp]\nhost = 127.0.0.1\nport = {port}\ntimeout = 10\n"
    )
    try:
        yield inbox
    finally:
        controller.stop()


def _parse(envelope) -> email.message.EmailMessage:
    return email.message_from_bytes(envelope.content, policy=email.policy.default)


def _text_body(message) -> str:
    return message.get_body(preferencelist=("plain", "html")).get_content()


def test_send_error_email_reaches_receivers_and_additional_recipients(smtp_inbox):
    notifications.send_error_email("Luigi: Framework error", "body text", additional_recipients=["owner@example.com"])
    [envelope] = smtp_inbox.messages
    assert envelope.mail_from == "luigi@example.com"
    assert envelope.rcpt_tos == ["ops@example.com", "oncall@example.com", "owner@example.com"]
    message = _parse(envelope)
    assert message["Subject"] == "[LUIGI] Luigi: Framework error"
    assert b"\nTo: ops@example.com,oncall@example.com,owner@example.com\n" in envelope.content.replace(b"\r\n", b"\n")
    assert _text_body(message) == "body text"


class Exploding(luigi.Task):
    size = luigi.IntParameter(default=3)
    label = luigi.Parameter(default="x")

    def output(self):
        return luigi.LocalTarget("exploding.txt")

    def run(self):
        raise ValueError("exploded on purpose")


def test_failed_task_sends_failure_email_from_the_worker(smtp_inbox):
    assert luigi.build([Exploding()], local_scheduler=True, no_progress=True) is False
    [envelope] = smtp_inbox.messages
    message = _parse(envelope)
    assert message["Subject"] == f"[LUIGI] Luigi: Exploding(size=3, label=x) FAILED. Host: {socket.gethostname()}"
    body = _text_body(message)
    assert body.startswith(
        "A task failed when running. Most likely run() raised an exception.\n\n"
        "Name: Exploding\n\nParameters:\n  size : 3\n  label: x\n\nCommand line:\n  "
    )
    assert "ValueError: exploded on purpose" in body


def test_nothing_is_sent_when_format_is_none(smtp_inbox, tmp_path, caplog):
    cfg = tmp_path / "luigi.cfg"
    cfg.write_text(cfg.read_text().replace("[email]\n", "[email]\nformat = none\n"))
    with caplog.at_level("INFO", logger="luigi-interface"):
        notifications.send_error_email("subject", "body")
    assert smtp_inbox.messages == []
    assert "Not sending email to ['ops@example.com, oncall@example.com'] because email format is 'none'" in caplog.text


def test_unreachable_smtp_server_is_logged_not_raised(tmp_path, caplog):
    (tmp_path / "luigi.cfg").write_text(
        f"[email]\nforce_send = true\nreceiver = a@example.com\n[smtp]\nhost = 127.0.0.1\nport = {_free_port()}\n"
    )
    with caplog.at_level("ERROR", logger="luigi-interface"):
        notifications.send_error_email("subject", "body")
    assert "Not able to connect to smtp server:" in caplog.text


class NoParams(luigi.Task):
    pass


class WithParams(luigi.Task):
    num = luigi.IntParameter()
    long_name = luigi.Parameter()
    ins = luigi.Parameter(significant=False)


def test_format_task_error_plain_layouts():
    text = notifications.format_task_error(
        "Headline here", WithParams(num=3, long_name="x", ins="y"), "luigi --module m MyTask --num 3",
        "Traceback (most recent call last):\n  File x\nValueError: bad\n",
    )
    assert text == (
        "Headline here\n\nName: WithParams\n\nParameters:\n  num      : 3\n  long_name: x\n  ins      : y\n\n"
        "Command line:\n  luigi --module m MyTask --num 3\n\nTraceback (most recent call last):\n  File x\nValueError: bad\n\n"
    )
    assert notifications.format_task_error("H", NoParams(), "cmd") == "H\n\nName: NoParams\n\nParameters:\n\n\nCommand line:\n  cmd\n\n\n"


def test_format_task_error_truncates_long_tracebacks(tmp_path):
    (tmp_path / "luigi.cfg").write_text("[email]\ntraceback_max_length = 10\n")
    text = notifications.format_task_error("H", NoParams(), "cmd", "0123456789abcdef")
    assert text.endswith("Command line:\n  cmd\n\n0123456789...Traceback exceeds max length and has been truncated.\n")


def test_format_task_error_html_layout(tmp_path):
    (tmp_path / "luigi.cfg").write_text("[email]\nformat = html\n")
    assert notifications.format_task_error("H", NoParams(), "cmd") == (
        '\n<html>\n<body>\n<h2>H</h2>\n\n<table style="border-top: 1px solid black; border-bottom: 1px solid black">\n'
        "<thead>\n<tr><th>name</th><td>NoParams</td></tr>\n</thead>\n<tbody>\n\n</tbody>\n</table>\n</pre>\n\n"
        "<h2>Command line</h2>\n<pre>\ncmd\n</pre>\n\n<h2>Traceback</h2>\n\n</body>\n</html>\n"
    )


def test_html_body_escapes_markup(tmp_path):
    (tmp_path / "luigi.cfg").write_text("[email]\nformat = html\n")
    text = notifications.format_task_error("<b>H</b>", WithParams(num=1, long_name="<i>", ins="&"), "a<b")
    assert "<h2>&lt;b&gt;H&lt;/b&gt;</h2>" in text
    assert "<tr><th>long_name</th><td>&lt;i&gt;</td></tr>" in text
    assert "<pre>\na&lt;b\n</pre>" in text


def test_recipient_cleaning_and_tty_suppression(monkeypatch, caplog):
    sent = []
    monkeypatch.setattr(notifications, "send_email_smtp", lambda *args: sent.append(args))
    monkeypatch.setattr("sys.stdout.isatty", lambda: False, raising=False)
    notifications.send_email("s", "m", "from@x", [" a@x, b@x ", "", "c@x"])
    assert sent[0][3] == ["a@x", "b@x", "c@x"]
    monkeypatch.setattr("sys.stdout.isatty", lambda: True, raising=False)
    with caplog.at_level("INFO", logger="luigi-interface"):
        notifications.send_email("s", "m", "from@x", ["a@x"])
    assert len(sent) == 1
    assert "because running from a tty" in caplog.text


def test_wrap_traceback_is_identity_for_plain():
    marker = object()
    assert notifications.wrap_traceback(marker) is marker


def test_test_notifications_task_from_the_command_line(smtp_inbox, tmp_path):
    result = run_luigi("TestNotificationsTask", "--local-scheduler", "--no-lock", "--email-force-send", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    [envelope] = smtp_inbox.messages
    message = _parse(envelope)
    assert message["Subject"] == f"[LUIGI] Luigi: TestNotificationsTask(raise_in_complete=False) FAILED. Host: {socket.gethostname()}"
    body = _text_body(message)
    assert "Name: TestNotificationsTask\n\nParameters:\n  raise_in_complete: False\n" in body
    assert "ValueError: Testing notifications triggering" in body


def test_generated_message_carries_png_attachments(tmp_path):
    image = tmp_path / "graph.png"
    image.write_bytes(b"\x89PNG fake image bytes")
    message = notifications.generate_email("from@x", "subject", "body", ["a@x", "b@x"], str(image))
    parsed = email.message_from_string(message.as_string(), policy=email.policy.default)
    assert (parsed["Subject"], parsed["From"]) == ("subject", "from@x")
    [text, attachment] = list(parsed.iter_parts())
    assert text.get_content_type() == "text/plain" and text.get_content() == "body"
    assert attachment.get_content_type() == "image/png"
    assert attachment.get_filename() == "graph.png"
    assert attachment.get_content() == b"\x89PNG fake image bytes"
