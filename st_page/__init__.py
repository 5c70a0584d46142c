"""The page's panels and features, one module per panel (Streamlit glue: the engine is
``ecc/``; the card's ``streamlit_app.py``, ``st_comps.py``, ``st_utils.py`` and
``st_data_structures.py`` stay the page's entry points)."""
