"""Test support: a scripted LLM brain (in-process and over HTTP) and a local test web."""
