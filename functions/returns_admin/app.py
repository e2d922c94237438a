"""Staff's returns queue (Cognito group `admin`): GET /admin/returns?status= (newest first, paginated with the
shared cursor, one Query of the OrdersByStatus index, partition RETURN#<status>) and GET /admin/returns/{returnId}
(lines, quantities, inspection results, the refund decided per line, timeline). Read-only: a return moves
through its workflow."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from shop.api import Guard, http_handler, make_resolver, require_group
from shop.observability import observability
from shop.returns import answers, queue
from shop.returns.models import ReturnStatus

obs = observability("returns-admin", needs=("orders_table",))
app = make_resolver(obs.logger)
staff = Router()
GROUP = "admin"
# each route names its answer through shop.returns.answers, resolved on the route's first request: the queue's
# cold start does not define the return view's models (issue 17)


@staff.get("/admin/returns")
def list_returns(status: Annotated[ReturnStatus, Query()] = ReturnStatus.AWAITING_GOODS,
                 limit: Annotated[int, Query(ge=1, le=100)] = 20,
                 cursor: Annotated[str | None, Query(max_length=2000)] = None) -> answers.StaffReturnPage:
    """The returns in one status (by default those waiting for their parcel), newest first."""
    require_group(app, GROUP)
    return queue.list_by_status(status, limit, cursor)


@staff.get("/admin/returns/<returnId>")
def get_return(returnId: Annotated[str, Path(min_length=1, max_length=64)]) -> answers.StaffReturnView:
    require_group(app, GROUP)
    obs.logger.append_keys(return_id=returnId)
    return queue.get_for_staff(returnId)


app.include_router(staff)


handler = http_handler(app, obs, Guard("/admin/", GROUP))
