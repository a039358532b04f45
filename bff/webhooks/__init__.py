"""Kard's notification webhook: verify the signature, keep each notification once, hand it on.

`signature` checks `notify-signature`; `inbox` stores each notification durably, once per
`data.id` (SQLite in `BFF_STATE_DIR`, or Redis); `dispatch` hands stored notifications to the
issuer's systems (a Python hook and/or a forward URL) from a background thread, at least once,
or gives one up as a dead letter once it has had its attempts or its time.
"""
