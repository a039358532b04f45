"""What an operator sees of the service: its metrics (`metrics`, read at `GET /metrics`)."""
