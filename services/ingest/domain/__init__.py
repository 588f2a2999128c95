"""Ingest's pure logic: authorisation, normalisation, partition keys, rate-limit maths."""
