"""Talking to Gel: the client protocol and factory, one query with its read-only guard and
time limits, the server's query descriptions, and the one error view model every failure
becomes.

May import: ``ecc.settings``.
"""
