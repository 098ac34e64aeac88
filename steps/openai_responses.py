"""Steps of the OpenAI feature: responses scenarios (issue 14)."""
