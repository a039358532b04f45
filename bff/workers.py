"""The background threads of a process: attribution delivery and webhook dispatch."""

from typing import TYPE_CHECKING

from bff.background import at_process_exit

if TYPE_CHECKING:
    from flask import Flask


def start_workers(app: "Flask") -> None:
    """Start this process's attribution delivery and webhook dispatch threads, and stop them
    when it ends (after SIGTERM, once its requests are done), handing back what they hold to
    other workers. Every server process calls it: `kard-bff serve`'s workers and wsgi.py; in a
    host app, the first request to kard-bff of each process (`KardBFF`'s `background`)."""
    from bff import current
    from bff.attributions import extension as attributions
    from bff.webhooks import extension as webhooks

    current.parts(app)["workers_started"] = True
    for part in (attributions.delivery(app), webhooks.dispatcher(app)):
        part.ensure_worker()
        at_process_exit(part.stop_worker)  # a thread each: the two stop side by side


def stop_workers(app: "Flask") -> None:
    """Stop the attribution delivery and webhook dispatch threads of `app`, those that were
    made (a test's apps, or a host app that stops without exiting)."""
    from bff import current
    from bff.attributions import extension as attributions
    from bff.webhooks import extension as webhooks

    made = current.parts(app)
    for name, part in (("delivery", attributions.delivery), ("dispatcher", webhooks.dispatcher)):
        if name in made:
            part(app).stop_worker()
