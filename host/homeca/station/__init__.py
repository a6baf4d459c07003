"""The burn-in station (HomeCA paper, Manufacturing): the manufacturer's
signing key, the append-only record of every device it provisioned, the
signed public-key-delivery manifest and the labels. docs/factory.md."""
