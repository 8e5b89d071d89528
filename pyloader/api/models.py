"""Bodies and answers of the planner API (pydantic).

Bodies are strict: a field of the wrong type, an unknown field or a value out
of the contract's range is refused with 422 before any SQL runs. The ranges
repeat the database's CHECK constraints (data-contract.md), which stay the
authority: a value they refuse is a 422 too.

Answers are described for the OpenAPI document; the server writes them as
the database returns them.
"""
import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

STRICT = ConfigDict(extra="forbid", strict=True)

Decision = Literal["pending", "approved", "rejected"]
Reason = Literal["reorder", "sufficient_stock", "discontinued", "not_assorted", "location_disabled", "inactive"]
Key = Annotated[str, Field(min_length=1, max_length=200)]
Qty = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Note = Annotated[str, Field(max_length=2000)]
ServiceLevel = Annotated[float, Field(ge=0.5, le=0.999, allow_inf_nan=False)]
Days = Annotated[int, Field(ge=0, le=3650)]


class _Body(BaseModel):
    model_config = STRICT

    @model_validator(mode="after")
    def _not_empty(self):
        if not self.model_fields_set and type(self).model_fields:
            raise ValueError("give at least one field")
        return self


class DecisionPatch(_Body):
    """A decision on one recommendation; a field left out keeps its value
    (none may be null but approved_qty and note)."""
    decision: Decision = None
    approved_qty: Qty | None = None
    note: Note | None = None


class DecisionEntry(BaseModel):
    model_config = STRICT
    product_id: Key
    location_id: Key
    decision: Decision
    approved_qty: Qty | None = None
    note: Note | None = None


class Decisions(BaseModel):
    """Decisions applied in one transaction, all or none."""
    model_config = STRICT
    decisions: list[DecisionEntry] = Field(min_length=1, max_length=1000)


# --- overrides: PUT replaces the row; a field left out or null = no override ---------


class ProductOverride(BaseModel):
    model_config = STRICT
    discontinued: bool | None = None
    service_level: ServiceLevel | None = None


class LocationOverride(BaseModel):
    model_config = STRICT
    enabled: bool | None = None


class SupplierOverride(BaseModel):
    model_config = STRICT
    lead_time_days: Days | None = None
    min_order_qty: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    order_multiple: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    review_period_weeks: Annotated[int, Field(ge=1, le=520)] | None = None


class AssortmentOverride(BaseModel):
    model_config = STRICT
    assorted: bool | None = None


class TenantSettingsPatch(_Body):
    """The tenant's `settings` row; a field left out keeps its value. Only
    as_of_date may be null (= today)."""
    as_of_date: Annotated[dt.date, Field(strict=False)] | None = None
    default_service_level: ServiceLevel = None
    default_lead_time_days: Days = None
    horizon_weeks: Annotated[int, Field(ge=1, le=104)] = None


# --- answers -----------------------------------------------------------------------


class ErrorBody(BaseModel):
    code: str
    message: str
    fields: dict[str, str] = {}


class ErrorDoc(BaseModel):
    error: ErrorBody


class Recommendation(BaseModel):
    product_id: str
    location_id: str
    as_of_week: dt.date | None
    demand_class: str | None
    method: str | None
    forecast_per_week: float | None
    sigma: float | None
    lead_time_weeks: float | None
    review_period_weeks: int | None
    service_level: float | None
    z: float | None
    safety_stock: float | None
    order_up_to: float | None
    inventory_position: float | None
    raw_qty: float | None
    recommended_qty: float | None
    reason: str | None
    qty_changed_at: dt.datetime | None
    computed_at: dt.datetime | None
    decision: Decision
    approved_qty: float | None
    decided_by: str | None
    decided_at: dt.datetime | None
    note: str | None


class Forecast(BaseModel):
    product_id: str
    location_id: str
    as_of_week: dt.date | None
    target_week: dt.date
    yhat: float | None
    method: str | None
    demand_class: str | None


class Conflict(BaseModel):
    conflict_id: int
    entity: Literal["product", "location", "supplier"]
    entity_key: str
    field: str
    erp_value: str | None
    ui_value: str | None
    erp_updated_at: dt.datetime
    detected_at: dt.datetime
    acknowledged_by: str | None
    acknowledged_at: dt.datetime | None


class LastRun(BaseModel):
    run_id: int
    started: dt.datetime
    finished: dt.datetime | None
    keys: int
    status: str


class Status(BaseModel):
    end_week: dt.date | None
    queue_depth: int
    oldest_dirty_age_seconds: float | None
    last_run: LastRun | None
    open_conflicts: int


class EntityDoc(BaseModel):
    """An entity's ERP values (null when the ERP has not sent it), the UI's
    override row (null when none) and the effective value of every field."""
    model_config = ConfigDict(extra="allow")  # the key columns: product_id, location_id, supplier_id
    erp: dict[str, Any] | None
    override: dict[str, Any] | None
    effective: dict[str, Any]


class TenantSettings(BaseModel):
    as_of_date: dt.date | None
    default_service_level: float
    default_lead_time_days: int
    horizon_weeks: int
    updated_by: str
    updated_at: dt.datetime


class Page(BaseModel):
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last")


class RecommendationPage(Page):
    data: list[Recommendation]


class ForecastPage(Page):
    data: list[Forecast]


class MasterFilePage(Page):
    data: list[dict[str, Any]] = Field(description="rows of the master_file view (features.md)")


class ConflictPage(Page):
    data: list[Conflict]


class EntityPage(Page):
    data: list[EntityDoc]


class DecisionsDone(BaseModel):
    data: list[Recommendation]
