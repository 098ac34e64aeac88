"""Safety: the one masking function, and no fixture touching a target that is not a test target."""
