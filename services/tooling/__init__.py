"""Tooling around the runtime: the local Java broker, TLS/SASL/ACL set-up, topic application,
the settings tables and the back-ends of ``relay`` commands. No service imports it."""
