"""The planner API and console (planner-api.md): `pyloader serve`.

- `tokens`: API tokens (create, list, revoke as the operator; resolve as the
  authenticator through masterfile.resolve_api_token);
- its SQL is named in pyloader/queries.sql and composed in pyloader/queries.py;
- `app`: the ASGI application (FastAPI) and its resources;
- `events`: the per-tenant change feed behind `GET /events`;
- `static/`: the console served at `/`.
"""
