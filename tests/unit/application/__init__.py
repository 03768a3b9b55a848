"""Use cases against fakes: no database, no emulator, no network."""
