"""Prompt templates, one module per role, and the renderers that fill them."""
