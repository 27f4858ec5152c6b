"""Many sites, one central store: each site forwards its series (Prometheus remote write or
vmagent) to VictoriaMetrics behind vmauth, one bearer token per site, the ``site`` label set by
vmauth from the token. This package only writes configuration and starts the stock binaries;
the storing, queueing and forwarding is theirs (docs/fleet.md)."""
