"""`make run`'s email: each message saved whole in the outbox folder, one line on the console."""

from django.core.mail import EmailMessage, get_connection


def test_a_message_is_saved_whole_and_announced_in_one_line(settings, tmp_path, capsys):
    settings.EMAIL_FILE_PATH = str(tmp_path)
    message = EmailMessage("[Keyward] Hello", "line one\nline two\n" * 50, to=["dev@acme.test"])
    sent = get_connection("portal.outbox.OutboxBackend").send_messages([message])
    (saved,) = tmp_path.iterdir()
    printed = capsys.readouterr().out
    assert sent == 1
    assert "line two" in saved.read_text() and "Subject: [Keyward] Hello" in saved.read_text()
    assert printed.count("\n") == 1 and str(saved) in printed and "dev@acme.test" in printed
