"""An email backend for development: Django's console backend, readable.

Django's prints the raw MIME message, so an invoice's PDF becomes pages of base64 in `make run`'s
output. This one prints the headers, each text part as text, and one line per attachment.
"""

from django.core.mail.backends.console import EmailBackend

# MIME plumbing, not something a reader of the message needs to see.
HIDDEN_HEADERS = {"content-type", "content-transfer-encoding", "mime-version"}


class ConsoleBackend(EmailBackend):
    """Write each message to the stream (stdout) as headers, text, and "Attachment: NAME (N bytes, TYPE)" lines."""

    def write_message(self, message):
        self.stream.write(message_text(message))
        self.stream.write("-" * 79 + "\n")


def message_text(message) -> str:
    """Return an EmailMessage as text: its headers, its text parts, one line per attachment."""
    mime = message.message()
    lines = [f"{name}: {value}" for name, value in mime.items() if name.lower() not in HIDDEN_HEADERS]
    for part in mime.walk():
        if part.is_multipart():
            continue
        if part.get_content_disposition() == "attachment" or part.get_content_maintype() != "text":
            data = part.get_payload(decode=True) or b""
            name = part.get_filename() or "(no name)"
            lines.append(f"Attachment: {name} ({len(data)} bytes, {part.get_content_type()})")
        else:
            lines.extend(["", part.get_content().rstrip("\n"), ""])
    return "\n".join(lines) + "\n"
