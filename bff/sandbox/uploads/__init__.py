"""Historical transaction uploads, from upload URL to webhook: the sessions, presigned S3-style
URLs, file ingest, the accepted records, the deprecated per-user upload, and the subscriptions and
signed webhooks that announce each file's results."""
