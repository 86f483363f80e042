"""The nodes of the research loop, one module each."""
