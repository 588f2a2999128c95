"""Operations helpers behind ``relay status``, ``relay dlq`` and ``relay tail``.

Pure parts (lag, health, redaction, replay headers) are separate from the parts that talk to
Kafka, so the CLI commands stay thin and the rules are unit-tested without a broker.
"""
