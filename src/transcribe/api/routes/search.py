from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from transcribe.api.deps import CurrentApp, ServiceDep
from transcribe.limits import MAX_PAGE_SIZE, MAX_SEARCH_QUERY_CHARS
from transcribe.search import SentenceKind
from transcribe.views import SearchPage

router = APIRouter(prefix="/v1/search", tags=["search"])


@router.get("")
def search(
    app_id: CurrentApp,
    service: ServiceDep,
    q: Annotated[
        str,
        Query(
            max_length=MAX_SEARCH_QUERY_CHARS,
            description='Words (all must match), "a quoted phrase" (in order), word* (prefix)',
        ),
    ],
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    since: Annotated[
        str | None, Query(max_length=64, description="ISO 8601; calls that started then or later")
    ] = None,
    until: Annotated[
        str | None, Query(max_length=64, description="ISO 8601; calls that started before it")
    ] = None,
    kind: Annotated[
        SentenceKind | None,
        Query(description="Only sentences with a question, answer or action item"),
    ] = None,
) -> SearchPage:
    """Sentences of this application's transcripts that match `q`: newest transcript first,
    in the order they were said within one, a page at a time."""
    return service.search.page(
        app_id, q, limit=limit, cursor=cursor, since=since, until=until, kind=kind
    )
