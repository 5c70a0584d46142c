"""Branches and globals: the server's branch list (``sys::Branch`` / ``sys::Database``), the
operator's policy for which branch a session may use and which globals are fixed or settable,
and the globals' typed inputs (the parameters' own parsers).

May import: ``ecc.settings``, ``ecc.driver``, ``ecc.display``, ``ecc.arguments``,
``ecc.schema``.
"""
