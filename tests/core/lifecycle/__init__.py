"""A server's life: lazy start, prestart, per-run logs, nothing left behind, one instance per xdist worker."""
