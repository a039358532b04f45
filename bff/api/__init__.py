"""The BFF's HTTP endpoints, one blueprint per feature."""
