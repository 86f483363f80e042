"""Local HTTP servers that speak search providers' wire formats, for tests."""
