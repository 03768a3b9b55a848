"""Emulators of the services the product talks to: separate products that import nothing of ours."""
