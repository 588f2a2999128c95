"""Cross-service plumbing: settings base, logging, Kafka clients, topic catalogue, local broker."""
