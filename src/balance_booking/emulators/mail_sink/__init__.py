"""A development mail sink: an SMTP server keeping messages in memory, an inbox page and JSON."""
