"""ingest: the front door for border agencies (HTTP API and the ``ingest.raw`` Kafka intake)."""
