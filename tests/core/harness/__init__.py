"""The step harness: async steps on one session loop, an async step never passing silently."""
