"""Region-to-Region replication: outbox → shipper → peer Region's applier."""
