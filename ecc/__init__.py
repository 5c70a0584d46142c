"""The console's engine, grouped by domain; it never imports streamlit.

Packages, lowest layer first (each imports only from those above it in this list):
``settings`` (what the operator sets), ``driver`` (talking to Gel, the error view model),
``display`` (result shaping, charts, plans, safe text), ``arguments`` (parameters, the
argument language, typed inputs, drafts), ``schema`` (model, introspection, store, explorer
view, completions), ``branches`` (the branch list, the operator's branch and globals
policy, globals as typed inputs), ``editor`` (keywords, text sync), ``explorer`` (the data
explorer's state, queries and pages), ``library`` (the analyst's memory: history and saved
queries kept in the browser, files, the team's library), ``running`` (run book, batches,
session loops and registry), ``fake`` (the shipped fake server).
"""
