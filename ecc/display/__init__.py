"""What a result looks like: shaping driver values into tables, JSON and downloads, charts,
query plans, and hostile text escaped before Markdown.

May import: ``ecc.driver``, ``ecc.settings``.
"""
