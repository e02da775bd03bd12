"""The agent: the daemon on each host that scans locally and reports to the server.

So far it holds the durable result spool (`rampart.agent.spool`); the link and jobs come later.
"""
