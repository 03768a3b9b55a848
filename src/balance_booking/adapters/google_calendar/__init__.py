"""Google Calendar adapter: the HTTP gateway (anti-corruption layer) and OAuth client."""
