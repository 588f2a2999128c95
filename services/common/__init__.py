"""The runtime every service imports: settings base, logging, Kafka clients, the consume loop,
message fate, metrics, health and the HTTP server. Tooling around it is ``services.tooling``."""
