"""Operations observability: readiness probes, structured logs carrying the request id, and
Prometheus metrics (docs/operations.md, "Health, logs and metrics")."""
