"""Steps of the OpenAI feature: embeddings scenarios (issue 14)."""
