"""Fakes we own: in-memory stand-ins for every port, kept honest by tests/contract."""
