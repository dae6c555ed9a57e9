"""XML formats: one module per object kind."""
