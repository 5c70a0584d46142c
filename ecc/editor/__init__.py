"""The EdgeQL editor's data: the language's keywords as data, and who wins the query text
(the editor's typing or a page callback's write).

May import: ``ecc.schema``.
"""
