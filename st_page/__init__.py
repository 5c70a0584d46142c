"""The page's parts by feature, one module per panel (Streamlit glue; the engine is ``ecc``)."""
