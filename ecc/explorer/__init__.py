"""The data explorer: a type's objects as pages of a table, ordered, filtered, following links.

``state`` holds what the user chose (a stack of views: the root type, then each link followed,
each with its page, order and filters); ``query`` turns a state and the schema model into the
EdgeQL the console sends (names from the schema only, filter values as parameters, never
spliced) and "open as query"'s text; ``paging`` reads a page's rows and decides what the total
says. Nothing here talks to the server: the page runs the requests through the session's runner.

May import: ``ecc.driver``, ``ecc.arguments``, ``ecc.schema``, ``ecc.editor``.
"""
