"""The worker loop: scheduled jobs and outbox dispatch."""
