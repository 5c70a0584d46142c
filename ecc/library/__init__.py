"""The analyst's memory: history entries and saved queries kept in the browser (validated
when they come back: stored data is input from the browser), their bounds and search, the
one-shot commands that keep the browser's copy in step, export and import as files, and the
team's read-only library of ``.edgeql`` files shipped by the operator.

May import: ``ecc.settings``, ``ecc.driver``, ``ecc.display``, ``ecc.arguments``.
"""
