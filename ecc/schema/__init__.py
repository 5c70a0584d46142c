"""The server's schema: the model's value objects, the ``schema::`` introspection, one model
per server branch for the process, the explorer's view and the editor's completion tree.

May import: ``ecc.driver``, ``ecc.display``, ``ecc.settings``.
"""
