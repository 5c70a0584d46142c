"""A query's arguments: parameters found in the text, the argument language, one input
parser per type, the typed form, and the draft that turns a form's text into checked
``QueryRequest``s.

May import: ``ecc.driver``, ``ecc.display``, ``ecc.settings``.
"""
