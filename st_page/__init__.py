"""The page by feature: one module per panel/feature of the page.

    data_explorer       the data explorer panel: a type's objects, paged, ordered, filtered
"""
