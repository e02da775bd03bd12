"""The REST routes, one module per resource; `ROUTERS` is the table the app mounts."""
