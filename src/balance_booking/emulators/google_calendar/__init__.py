"""A local emulator of Google OAuth 2.0 and Calendar API v3, faithful enough for Google's own clients."""
