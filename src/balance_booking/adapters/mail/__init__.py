"""E-mail: the words of each message (texts.py, templates/), MIME (compose.py), SMTP (smtp.py)."""
