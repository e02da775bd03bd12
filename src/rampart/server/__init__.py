"""The control plane: an ASGI app (FastAPI on uvicorn) that users and agents talk to.

`config` holds the operator's settings, `state` the long-lived objects (database, authorizer, audit
log, certificate authority, live agent links), `app` assembles the routes, `link` serves the agents'
one outbound WebSocket, `rematch` re-judges the fleet when the advisory database changes, and
`run` starts uvicorn with TLS.
"""
