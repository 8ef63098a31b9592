"""The submission sandbox: an untrusted worker process and the trusted host that drives it."""
