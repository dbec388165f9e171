"""See the package docstring of diagnostics for the data flow."""
