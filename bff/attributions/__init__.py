"""Attribution events from apps, never lost once accepted: the checks of a batch (`checks`), the
delivery to Kard (`delivery`), and the durable outbox of what Kard could not take yet (`outbox`).
Pure: no Flask; `extension` plugs delivery into the app."""
