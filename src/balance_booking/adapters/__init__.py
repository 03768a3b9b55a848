"""Adapters: database, Google Calendar gateway, the Google Calendar emulator, crypto."""
