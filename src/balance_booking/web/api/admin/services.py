"""/api/admin/services: the kinds of meeting (list, create, change, delete or hide)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from balance_booking.web.audit import AuditedRoute
from balance_booking.web.deps import AdminDep, ServicesDep
from balance_booking.web.schemas import ErrorBody, ServiceIn, ServiceOut, ServicePatch, ServicesOut

router = APIRouter(prefix="/api/admin", tags=["admin"], route_class=AuditedRoute)

_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorBody, "description": "Missing or invalid admin credentials"},
    422: {"model": ErrorBody, "description": "Invalid request"},
}
_ITEM_ERRORS: dict[int | str, dict[str, object]] = _ERRORS | {
    404: {"model": ErrorBody, "description": "Unknown service"},
}


@router.get("/services", response_model=ServicesOut, responses=_ERRORS)
def list_services(_admin: AdminDep, services: ServicesDep) -> ServicesOut:
    return ServicesOut(
        services=[ServiceOut.from_domain(s) for s in services.list_services.execute()]
    )


@router.post(
    "/services",
    name="service.create",
    response_model=ServiceOut,
    status_code=201,
    responses=_ERRORS | {409: {"model": ErrorBody, "description": "Slug taken"}},
)
def create_service(body: ServiceIn, _admin: AdminDep, services: ServicesDep) -> ServiceOut:
    return ServiceOut.from_domain(services.create_service.execute(body.to_domain()))


@router.patch(
    "/services/{slug}", name="service.update", response_model=ServiceOut, responses=_ITEM_ERRORS
)
def update_service(
    slug: str, body: ServicePatch, _admin: AdminDep, services: ServicesDep
) -> ServiceOut:
    return ServiceOut.from_domain(services.update_service.execute(slug, body.changes()))


@router.delete("/services/{slug}", name="service.delete", status_code=204, responses=_ITEM_ERRORS)
def delete_service(slug: str, _admin: AdminDep, services: ServicesDep) -> Response:
    services.delete_service.execute(slug)
    return Response(status_code=204)
