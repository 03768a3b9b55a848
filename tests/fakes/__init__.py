"""In-memory doubles of the ports, owned by the tests (STYLE.md: fakes, not mocks)."""
