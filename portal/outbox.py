"""Development email: each message is saved whole as an .eml file, and only one line is printed.

Printing whole MIME messages (Django's console backend) buries the demo logins under hundreds
of lines in the terminal `make run` shares with the worker; a file per message keeps them
readable in any mail client or editor.
"""

import sys
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone
from django.utils.crypto import get_random_string


class OutboxBackend(BaseEmailBackend):
    """Writes each message to EMAIL_FILE_PATH and prints where, with whom and about what."""

    def send_messages(self, email_messages):
        folder = Path(settings.EMAIL_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
            path = folder / f"{stamp}-{get_random_string(6).lower()}.eml"
            path.write_bytes(message.message().as_bytes(linesep="\n"))
            recipients = ", ".join(message.recipients())
            sys.stdout.write(f"Email to {recipients}: {message.subject!r}, in full at {path}\n")
            sys.stdout.flush()
        return len(email_messages)
