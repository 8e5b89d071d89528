"""The planner API and console (planner-api.md), as an ASGI application.

Security model: the pool logs in as the authenticator (db.app_conninfo: owns
nothing, NOINHERIT). Each request that touches a tenant is one transaction on
a pooled connection that resolves the bearer token (as the authenticator,
through masterfile.resolve_api_token) and then runs db.enter_tenant(...,
local=True): SET LOCAL ROLE to the token's role (planner = the tenant's UI
role, viewer = its reader role) and SET LOCAL search_path to its schema. What
that role may not do, the database refuses (a viewer's write, an ERP-owned
column, another tenant's schema); the web tier only shapes the answer.

Not annotated with `from __future__ import annotations`: FastAPI reads the
parameter types of the route closures built below.
"""
import asyncio
import base64
import contextlib
import datetime as dt
import json
import math
import threading
from decimal import Decimal
from importlib import resources
from typing import Annotated, Any, Literal

import psycopg
from fastapi import APIRouter, Depends, FastAPI, Path, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout
from starlette.exceptions import HTTPException

from pyloader import db, queries
from pyloader.errors import refused_rule
from pyloader.api import models, tokens
from pyloader.api.events import CLOSED, EventHub, sse


MAX_BODY_BYTES = 1 << 20
STATUS_SECONDS = 10.0  # planner-api.md: a status event at least every 15 s


# --- errors ------------------------------------------------------------------------


class ApiError(HTTPException):
    """An answer of the contract's error shape: {"error": {code, message, fields}}."""

    def __init__(self, status: int, code: str, message: str, fields: dict[str, str] | None = None):
        super().__init__(status, message)
        self.code = code
        self.fields = fields or {}


def not_found() -> ApiError:
    # the same words for an unknown tenant, another tenant's and an unknown key
    return ApiError(404, "not_found", "no such resource")


def unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message)


def invalid(fields: dict[str, str], message: str = "the request breaks the contract") -> ApiError:
    return ApiError(422, "invalid", message, fields)


_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
          422: "invalid", 503: "unavailable"}


def error_response(status: int, code: str, message: str, fields: dict | None = None, headers=None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "fields": fields or {}}},
                        status_code=status, headers=headers)


def _field_name(loc: tuple) -> str:
    """('body', 'decisions', 3, 'decision') -> 'decisions[3].decision'."""
    parts = list(loc[1:]) if loc and loc[0] in ("body", "query", "path", "header") else list(loc)
    name = ""
    for p in parts:
        name += f"[{p}]" if isinstance(p, int) else (f".{p}" if name else str(p))
    return name or (loc[0] if loc else "body")


def validation_fields(errors: list[dict]) -> dict[str, str]:
    """Each field and why; for a list of decisions only the first bad entry."""
    entries = [e["loc"][2] for e in errors
               if len(e["loc"]) > 2 and e["loc"][:2] == ("body", "decisions") and isinstance(e["loc"][2], int)]
    if entries:
        first = min(entries)
        errors = [e for e in errors if e["loc"][:3] == ("body", "decisions", first)] or errors
    fields: dict[str, str] = {}
    for e in errors:
        if e.get("type") == "json_invalid":
            fields["body"] = f"malformed JSON: {e.get('ctx', {}).get('error', e['msg'])}"
            continue
        fields.setdefault(_field_name(tuple(e["loc"])), e["msg"])
    return fields


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def _http(request, exc: HTTPException):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        if isinstance(exc, ApiError):
            return error_response(exc.status_code, exc.code, exc.detail, exc.fields, headers)
        return error_response(exc.status_code, _CODES.get(exc.status_code, "error"), str(exc.detail),
                              headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request, exc: RequestValidationError):
        return error_response(422, "invalid", "the request breaks the contract", validation_fields(exc.errors()))

    @app.exception_handler(psycopg.errors.InsufficientPrivilege)
    async def _forbidden(request, exc):
        return error_response(403, "forbidden", "this token's role may not do this")

    @app.exception_handler(psycopg.errors.IntegrityError)
    async def _constraint(request, exc):
        diag = exc.diag
        field = diag.column_name or refused_rule(diag) or "body"
        return error_response(422, "invalid", "the database refused the values", {field: diag.message_primary or ""})

    @app.exception_handler(psycopg.errors.DataError)
    async def _data(request, exc):
        return error_response(422, "invalid", "the database refused the values", {"body": exc.diag.message_primary})

    @app.exception_handler(PoolTimeout)
    async def _busy(request, exc):
        return error_response(503, "unavailable", "the database is busy; try again")

    @app.exception_handler(psycopg.OperationalError)
    async def _down(request, exc):
        return error_response(503, "unavailable", "the database cannot be reached")


class BodyLimit:
    """Refuses a body larger than `limit` bytes (422, field `body`) before it is read whole."""

    def __init__(self, app, limit: int = MAX_BODY_BYTES):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse()(scope, receive, send)
            return
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise invalid({"body": f"larger than {self.limit} bytes"})
            return message

        await self.app(scope, counted, send)

    def _refuse(self) -> JSONResponse:
        return error_response(422, "invalid", "the request breaks the contract",
                              {"body": f"larger than {self.limit} bytes"})


# --- answers -----------------------------------------------------------------------


def _plain(o):
    if isinstance(o, (dt.datetime, dt.date)):
        return o.isoformat()
    if isinstance(o, Decimal):
        return int(o) if o == o.to_integral_value() else float(o)
    raise TypeError(f"not JSON: {type(o).__name__}")


def _finite(o):
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, list):
        return [_finite(v) for v in o]
    return o


class Json(JSONResponse):
    """JSON of database rows: dates as ISO strings, NaN and infinities as null."""

    def render(self, content) -> bytes:
        try:
            return json.dumps(content, default=_plain, allow_nan=False, separators=(",", ":")).encode()
        except ValueError:
            return json.dumps(_finite(content), default=_plain, separators=(",", ":")).encode()


# --- pages -------------------------------------------------------------------------


def encode_cursor(order: str, values: list[str]) -> str:
    raw = json.dumps({"o": order, "k": values}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, order: str, n: int) -> list[str]:
    try:
        doc = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        values = doc["k"]
        if doc["o"] != order or not isinstance(values, list) or len(values) != n \
                or not all(isinstance(v, str) for v in values):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise invalid({"cursor": "not a cursor of this list and order"}) from None
    return values


def page(conn: psycopg.Connection, listing: queries.Listing, filters: dict[str, Any], *,
         limit: int, cursor: str | None, order: str | None = None, column: str | None = None) -> dict:
    """One page of a list: {"data": [...], "next_cursor": ...}, in a stable order."""
    order = order or listing.default_order
    args = {"limit": limit + 1, **{name: value for name, value in filters.items() if value is not None}}
    if cursor is not None:
        values = decode_cursor(cursor, order, len(listing.orders[order]))
        args.update({f"c{i}": v for i, v in enumerate(values)})
    text = listing.page(order, [name for name in filters if name in args], after_cursor=cursor is not None)
    try:
        with conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(text, args).fetchall()
    except psycopg.errors.DataError:
        if cursor is None:
            raise
        raise invalid({"cursor": "not a cursor of this list and order"}) from None
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(order, rows[-1]["_cursor"]) if more else None
    data = []
    for r in rows:
        del r["_cursor"]
        data.append(r[column] if column else r)
    return {"data": data, "next_cursor": next_cursor}


Limit = Annotated[int, Query(ge=1, le=1000, description="rows per page")]
Cursor = Annotated[str | None, Query(max_length=2000, description="next_cursor of the previous page")]
KeyParam = Annotated[str | None, Query(min_length=1, max_length=200)]


# --- the server --------------------------------------------------------------------


class Server:
    """The pool, the token check and the tenant transaction."""

    def __init__(self, url: str | None, *, pool_size: int = 10):
        self.url = url
        self.pool = ConnectionPool(db.app_conninfo(url), min_size=2, max_size=pool_size, open=False,
                                   name="masterfile-api", timeout=10.0)

    def principal(self, conn: psycopg.Connection, creds: HTTPAuthorizationCredentials | None,
                  client_id: str) -> tokens.Principal:
        if creds is None:
            raise unauthorized("send Authorization: Bearer <token> (pyloader token create)")
        principal = tokens.resolve(conn, creds.credentials)
        if principal is None:
            raise unauthorized("unknown or revoked token")
        if principal.client_id != client_id:
            raise not_found()
        return principal

    @contextlib.contextmanager
    def tenant(self, creds: HTTPAuthorizationCredentials | None, client_id: str, *, marks: bool = False):
        """One transaction under the token's tenant role: (connection, principal).

        `marks`: the request writes what queues work (settings); its hint is
        sent from this session before the commit, as on Citus the marking
        triggers run on the tenant's worker, which cannot hint.
        """
        with self.pool.connection() as conn:
            principal = self.principal(conn, creds, client_id)
            db.enter_tenant(conn, principal.schema, principal.kind, local=True)
            yield conn, principal
            if marks:
                conn.execute(queries.hint_work(principal.schema))

    def in_tenant(self, schema: str, fn):
        """fn(conn) in one transaction under the tenant's reader role (the event feed)."""
        with self.pool.connection() as conn:
            db.enter_tenant(conn, schema, "reader", local=True)
            return fn(conn)

    def status_of(self, creds, client_id: str) -> tuple[tokens.Principal, dict]:
        with self.tenant(creds, client_id) as (conn, principal):
            return principal, conn.execute(queries.STATUS).fetchone()[0]

    def status(self, creds, client_id: str) -> dict:
        return self.status_of(creds, client_id)[1]


bearer = HTTPBearer(auto_error=False, description="a token of `pyloader token create`")
Creds = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]

ERRORS = {401: {"model": models.ErrorDoc, "description": "token missing, unknown or revoked"},
          404: {"model": models.ErrorDoc, "description": "unknown tenant, another tenant's, or an unknown key"},
          422: {"model": models.ErrorDoc, "description": "a parameter or body that breaks the contract"}}
WRITE_ERRORS = {403: {"model": models.ErrorDoc, "description": "a viewer token asked to write"}}


def _one(conn, query, params) -> dict | None:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchone()


def build_router(server: Server, hub: EventHub, status_seconds: float) -> APIRouter:
    r = APIRouter(prefix="/v1/tenants/{client_id}", responses=ERRORS)

    @r.get("/status", response_model=models.Status, tags=["status"])
    def get_status(client_id: str, creds: Creds):
        """Queue depth, the oldest mark's age, the last run and the open conflicts."""
        return Json(server.status(creds, client_id))

    @r.get("/recommendations", response_model=models.RecommendationPage, tags=["recommendations"])
    def list_recommendations(
            client_id: str, creds: Creds, limit: Limit = 100, cursor: Cursor = None,
            reason: models.Reason | None = None, decision: models.Decision | None = None,
            product_id: KeyParam = None, location_id: KeyParam = None, supplier_id: KeyParam = None,
            order: Literal["recommended_qty.desc", "product_id", "qty_changed_at.desc"] = "recommended_qty.desc"):
        """Rows of `recommendations`, every column (the pipeline's and the UI's)."""
        with server.tenant(creds, client_id) as (conn, _):
            return Json(page(conn, queries.RECOMMENDATIONS,
                             {"reason": reason, "decision": decision, "product_id": product_id,
                              "location_id": location_id, "supplier_id": supplier_id},
                             limit=limit, cursor=cursor, order=order))

    def decide(conn, principal, entries: list[dict]) -> list[dict]:
        cols = {k: [] for k in ("product_id", "location_id", "set_decision", "decision", "set_qty", "approved_qty",
                                "set_note", "note")}
        for e in entries:
            cols["product_id"].append(e["product_id"])
            cols["location_id"].append(e["location_id"])
            for field, flag in (("decision", "set_decision"), ("approved_qty", "set_qty"), ("note", "set_note")):
                cols[flag].append(field in e)
                cols[field].append(e.get(field))
        # the transaction's now(), passed as a value (Citus: queries.sql `clock`)
        at = conn.execute(queries.NOW).fetchone()[0]
        with conn.cursor(row_factory=dict_row) as cur:
            return cur.execute(queries.DECIDE, {**cols, "decided_by": principal.name, "at": at}).fetchall()

    @r.patch("/recommendations/{product_id}/{location_id}", response_model=models.Recommendation,
             responses=WRITE_ERRORS, tags=["recommendations"])
    def patch_recommendation(client_id: str, product_id: str, location_id: str, body: models.DecisionPatch,
                             creds: Creds):
        """Record a decision; sets decided_by (the token's name) and decided_at."""
        entry = {"product_id": product_id, "location_id": location_id,
                 **body.model_dump(include=body.model_fields_set)}
        with server.tenant(creds, client_id) as (conn, principal):
            rows = decide(conn, principal, [entry])
            if not rows:
                raise not_found()
            return Json(rows[0])

    @r.post("/recommendations/decisions", response_model=models.DecisionsDone, responses=WRITE_ERRORS,
            tags=["recommendations"])
    def post_decisions(client_id: str, body: models.Decisions, creds: Creds):
        """Several decisions in one transaction: all applied, or none (422 names the first bad entry)."""
        entries = [e.model_dump(include=e.model_fields_set) for e in body.decisions]
        seen = {}
        for i, e in enumerate(entries):
            key = (e["product_id"], e["location_id"])
            if key in seen:
                raise invalid({f"decisions[{i}]": f"the same key as decisions[{seen[key]}]"})
            seen[key] = i
        with server.tenant(creds, client_id) as (conn, principal):
            rows = decide(conn, principal, entries)
            if len(rows) < len(entries):
                done = {(row["product_id"], row["location_id"]) for row in rows}
                first = next(i for i, e in enumerate(entries) if (e["product_id"], e["location_id"]) not in done)
                raise invalid({f"decisions[{first}]": "no recommendation for this product and location"})
            by_key = {(row["product_id"], row["location_id"]): row for row in rows}
            return Json({"data": [by_key[k] for k in seen]})

    @r.get("/forecasts", response_model=models.ForecastPage, tags=["plans"])
    def list_forecasts(client_id: str, creds: Creds, limit: Limit = 100, cursor: Cursor = None,
                       product_id: KeyParam = None, location_id: KeyParam = None):
        """Rows of `forecasts`, by product, location and target week."""
        with server.tenant(creds, client_id) as (conn, _):
            return Json(page(conn, queries.FORECASTS, {"product_id": product_id, "location_id": location_id},
                             limit=limit, cursor=cursor))

    @r.get("/master-file", response_model=models.MasterFilePage, tags=["plans"])
    def list_master_file(client_id: str, creds: Creds, limit: Limit = 100, cursor: Cursor = None,
                         product_id: KeyParam = None, location_id: KeyParam = None,
                         from_week: dt.date | None = None, to_week: dt.date | None = None):
        """Rows of `master_file`, by product, location and week."""
        with server.tenant(creds, client_id) as (conn, _):
            return Json(page(conn, queries.MASTER_FILE,
                             {"product_id": product_id, "location_id": location_id,
                              "from_week": from_week, "to_week": to_week}, limit=limit, cursor=cursor))

    for entity, body_model in ((queries.PRODUCTS, models.ProductOverride),
                               (queries.LOCATIONS, models.LocationOverride),
                               (queries.SUPPLIERS, models.SupplierOverride),
                               (queries.ASSORTMENTS, models.AssortmentOverride)):
        add_entity_routes(r, server, entity, body_model)

    @r.get("/settings/tenant", response_model=models.TenantSettings, tags=["settings"])
    def get_tenant_settings(client_id: str, creds: Creds):
        """The tenant's `settings` row."""
        with server.tenant(creds, client_id) as (conn, _):
            return Json(_one(conn, queries.TENANT_SETTINGS, None))

    @r.patch("/settings/tenant", response_model=models.TenantSettings, responses=WRITE_ERRORS, tags=["settings"])
    def patch_tenant_settings(client_id: str, body: models.TenantSettingsPatch, creds: Creds):
        """Change fields of the `settings` row; a field left out keeps its value."""
        values = body.model_dump(include=body.model_fields_set)
        with server.tenant(creds, client_id, marks=True) as (conn, principal):
            conn.execute(queries.update_tenant_settings(list(values)), {**values, "by": principal.name})
            return Json(_one(conn, queries.TENANT_SETTINGS, None))

    @r.get("/conflicts", response_model=models.ConflictPage, tags=["conflicts"])
    def list_conflicts(client_id: str, creds: Creds, limit: Limit = 100, cursor: Cursor = None,
                       acknowledged: bool | None = None):
        """Where the ERP contradicts a UI override; newest first."""
        with server.tenant(creds, client_id) as (conn, _):
            return Json(page(conn, queries.CONFLICTS, {"acknowledged": acknowledged}, limit=limit, cursor=cursor))

    @r.post("/conflicts/{conflict_id}/acknowledge", response_model=models.Conflict, responses=WRITE_ERRORS,
            tags=["conflicts"])
    def acknowledge_conflict(client_id: str, conflict_id: Annotated[int, Path(ge=1, le=2**63 - 1)], creds: Creds):
        """Record who acknowledged the conflict and when; again changes nothing."""
        with server.tenant(creds, client_id) as (conn, principal):
            at = conn.execute(queries.NOW).fetchone()[0]
            row = _one(conn, queries.ACKNOWLEDGE, {"by": principal.name, "conflict_id": conflict_id, "at": at}) \
                or _one(conn, queries.CONFLICT, {"conflict_id": conflict_id})
            if row is None:
                raise not_found()
            return Json(row)

    @r.get("/events", tags=["events"], response_class=StreamingResponse,
           responses={200: {"content": {"text/event-stream": {}},
                            "description": "events `recommendation` (product_id, location_id, recommended_qty,"
                                           " reason, computed_at) and `status` (as GET /status)"}})
    async def events(client_id: str, creds: Creds):
        """The tenant's recommendation changes as server-sent events, and its status at least every 15 s."""
        # 401 and 404 before the stream opens; the token is checked again at every status tick
        principal, first = await asyncio.to_thread(server.status_of, creds, client_id)
        sub = await hub.subscribe(principal.schema)
        loop = asyncio.get_running_loop()

        async def stream():
            try:
                yield b": masterfile events\n\n" + sse("status", first)
                due = loop.time() + status_seconds
                while True:
                    wait = due - loop.time()
                    if wait <= 0:
                        try:  # a revoked token's stream ends at the next tick
                            doc = await asyncio.to_thread(server.status, creds, client_id)
                        except HTTPException:
                            return
                        yield sse("status", doc)
                        due = loop.time() + status_seconds
                        continue
                    try:
                        chunk = await asyncio.wait_for(sub.queue.get(), wait)
                    except TimeoutError:
                        continue
                    if chunk is CLOSED:
                        return
                    yield chunk
            finally:
                hub.unsubscribe(sub)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    return r


def add_entity_routes(r: APIRouter, server: Server, entity: queries.Entity, body_model) -> None:
    """`GET /{entity}` and `GET, PUT, DELETE /settings/{entity}/{key...}`."""
    listing = entity.listing()
    doc_query = entity.select_doc()
    upsert, delete = entity.upsert(), entity.delete()
    label = entity.name[:-1]

    def doc(conn, key: dict) -> dict | None:
        row = conn.execute(doc_query, key).fetchone()
        return None if row is None else row[0]

    def get(conn, key):
        found = doc(conn, key)
        if found is None:
            raise not_found()
        return Json(found)

    def put(conn, principal, key, body):
        conn.execute(upsert, {**key, **body.model_dump(), "updated_by": principal.name})
        return Json(doc(conn, key))

    def remove(conn, key):
        if conn.execute(delete, key).fetchone() is None:
            raise not_found()
        found = doc(conn, key)
        return Json(found if found is not None else {**key, "erp": None, "override": None, "effective": None})

    def list_entities(client_id: str, creds: Creds, limit: Limit = 100, cursor: Cursor = None,
                      q: Annotated[str | None, Query(min_length=1, max_length=200,
                                                     description="a substring of the id or the name")] = None):
        with server.tenant(creds, client_id) as (conn, _):
            return Json(page(conn, listing, {"q": q}, limit=limit, cursor=cursor, column="doc"))

    if entity is not queries.ASSORTMENTS:  # the contract lists assortments only as settings
        r.add_api_route(f"/{entity.name}", list_entities, methods=["GET"], response_model=models.EntityPage,
                        tags=["settings"], name=f"list_{entity.name}",
                        summary=f"{entity.name}: ERP values, override and effective values")

    path = f"/settings/{entity.name}/" + "/".join(f"{{{k}}}" for k in entity.key)
    common = dict(response_model=models.EntityDoc, tags=["settings"])
    KeyPath = Annotated[str, Path(min_length=1, max_length=200)]
    if len(entity.key) == 1:
        k0 = entity.key[0]

        def get_one(client_id: str, key: Annotated[str, Path(alias=k0, min_length=1, max_length=200)],
                    creds: Creds):
            with server.tenant(creds, client_id) as (conn, _):
                return get(conn, {k0: key})

        def put_one(client_id: str, key: Annotated[str, Path(alias=k0, min_length=1, max_length=200)],
                    body: body_model, creds: Creds):
            with server.tenant(creds, client_id, marks=True) as (conn, principal):
                return put(conn, principal, {k0: key}, body)

        def delete_one(client_id: str, key: Annotated[str, Path(alias=k0, min_length=1, max_length=200)],
                       creds: Creds):
            with server.tenant(creds, client_id, marks=True) as (conn, _):
                return remove(conn, {k0: key})
    else:
        def get_one(client_id: str, product_id: KeyPath, location_id: KeyPath, creds: Creds):
            with server.tenant(creds, client_id) as (conn, _):
                return get(conn, {"product_id": product_id, "location_id": location_id})

        def put_one(client_id: str, product_id: KeyPath, location_id: KeyPath, body: body_model, creds: Creds):
            with server.tenant(creds, client_id, marks=True) as (conn, principal):
                return put(conn, principal, {"product_id": product_id, "location_id": location_id}, body)

        def delete_one(client_id: str, product_id: KeyPath, location_id: KeyPath, creds: Creds):
            with server.tenant(creds, client_id, marks=True) as (conn, _):
                return remove(conn, {"product_id": product_id, "location_id": location_id})

    r.add_api_route(path, get_one, methods=["GET"], name=f"get_{label}_settings",
                    summary=f"the {label}'s override row, ERP and effective values", **common)
    r.add_api_route(path, put_one, methods=["PUT"], name=f"put_{label}_settings", responses=WRITE_ERRORS,
                    summary=f"replace the {label}'s override (a field left out or null = no override)", **common)
    r.add_api_route(path, delete_one, methods=["DELETE"], name=f"delete_{label}_settings", responses=WRITE_ERRORS,
                    summary=f"remove the {label}'s override", **common)


def create_app(url: str | None = None, *, run_worker: bool = True, pool_size: int = 10,
               status_seconds: float = STATUS_SECONDS, poll_interval: float = 0.2,
               worker_poll_seconds: float = 5.0) -> FastAPI:
    """The application; `url` is the operator's DATABASE_URL (the pool logs in as the authenticator)."""
    server = Server(url, pool_size=pool_size)
    hub = EventHub(server.in_tenant, interval=poll_interval)
    state: dict = {}

    @contextlib.asynccontextmanager
    async def lifespan(app):
        server.pool.open()
        hub.start()
        if run_worker:  # freshness without anything started by hand
            from pyloader.worker import Worker

            w = Worker(url, poll_seconds=worker_poll_seconds)
            t = threading.Thread(target=w.run, name="masterfile-worker", daemon=True)
            t.start()
            state["worker"] = (w, t)
        try:
            yield
        finally:
            await hub.stop()
            if "worker" in state:
                w, t = state.pop("worker")
                w.stop()
                await asyncio.to_thread(t.join, 30)
            server.pool.close()

    app = FastAPI(title="masterfile planner API", version="1", lifespan=lifespan,
                  description="Recommendations, decisions, settings, conflicts and events of one tenant, each"
                              " request under the tenant's own database role.")
    app.state.server = server
    app.state.hub = hub
    install_error_handlers(app)
    app.add_middleware(BodyLimit)
    app.include_router(build_router(server, hub, status_seconds))

    @app.get("/healthz", tags=["status"])
    def healthz():
        """200 when the database answers."""
        try:
            with server.pool.connection() as conn:
                conn.execute(queries.HEALTH)
        except (psycopg.Error, PoolTimeout):
            return error_response(503, "unavailable", "the database does not answer")
        return {"status": "ok"}

    static = resources.files("pyloader.api") / "static"

    @app.get("/", include_in_schema=False)
    def console():
        return HTMLResponse((static / "index.html").read_text())

    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    return app
