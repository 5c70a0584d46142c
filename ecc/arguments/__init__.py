"""A query's arguments: parameters found in the text, the argument language, one input
parser per type, the typed form, and the one path (``drafts``) from what
the form holds to checked ``QueryRequest``s.

May import: ``ecc.driver``, ``ecc.display``, ``ecc.settings``.
"""
