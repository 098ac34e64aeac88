"""Self-tests of the core: what every service gets from it (settings, lifecycle, faults, safety, the harness)."""
