"""Get Files: the paginated metadata of the organization's reconciliation files, filtered by
sent date (the last month by default) and type, newest first unless sorted otherwise."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bff.sandbox.documents.resources import iso
from bff.sandbox.lifecycle.files import FILE_TYPES, ReconciliationFile
from bff.sandbox.pagination import links, order, paginate
from bff.sandbox.params import QueryArgs

MAX_PAGE_SIZE = 100  # the reference: "maximum value allowed 100 items per page"
DEFAULT_SPAN = timedelta(days=30)  # "defaults to current date minus 1 month"
SORT_KEYS = {"sentDate": lambda file: file.sent_at}


def files_document(
    files: list[ReconciliationFile],
    organization_id: str,
    args: QueryArgs,
    now: datetime,
    download_url: Callable[[ReconciliationFile], str],
) -> dict[str, Any]:
    """Answer Get Files from the organization's files, as of `now`."""
    size = args.integer("page[size]", minimum=1, maximum=MAX_PAGE_SIZE)
    date_to = args.moment("filter[dateTo]") or now
    date_from = args.moment("filter[dateFrom]") or date_to - DEFAULT_SPAN
    file_type = args.choice("filter[fileType]", FILE_TYPES)
    chosen = [
        file
        for file in files
        if date_from <= file.sent_at <= date_to and file_type in (None, file.file_type)
    ]
    ordered = order(chosen[::-1], args, SORT_KEYS)  # newest first, as "-sentDate"
    page = paginate(ordered, lambda file: file.id, args)
    return {
        "data": [_resource(file, download_url(file)) for file in page.items],
        "links": links(f"/v2/issuers/{organization_id}/files/metadata", args, page),
        "meta": {"pageSize": size or args.page_size(), "hasNextPage": page.next_cursor is not None},
    }


def _resource(file: ReconciliationFile, download_url: str) -> dict[str, Any]:
    attributes = {
        "fileName": file.name,
        "sentAt": iso(file.sent_at),
        "lastModified": iso(file.sent_at),
        "downloadUrl": download_url,
    }
    return {"type": file.file_type, "id": file.id, "attributes": attributes}
