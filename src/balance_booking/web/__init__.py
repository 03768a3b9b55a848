"""Web layer: FastAPI app factory, JSON routers, pages."""
