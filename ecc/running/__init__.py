"""Running queries for a session: the run book (status, history), the batch runner (one
``asyncio.TaskGroup`` per submission), the session's loop thread and the registry that
reclaims idle sessions.

May import: ``ecc.driver``, ``ecc.display``, ``ecc.arguments``, ``ecc.settings``.
"""
