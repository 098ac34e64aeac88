"""Settings: precedence, modes, the pytest header, one usage line per bad value."""
