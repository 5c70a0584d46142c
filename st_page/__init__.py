"""The page by feature: one module per panel/feature of the page.

    signin              the setup panel (connection not configured) and the sign-in gate
    form                the query tabs, typed inputs on the page, Run/Analyze, the submission
    descriptions        the server's descriptions on the page: typed inputs per text
    links               shared links, a page that moved to a new server session, reconnect
    results             result slots, streaming and polling, the running list, Cancel
    history             the history panel: load into the form, run again, show, download
    schema_explorer     the schema explorer panel and the schema the editor completes from
    sidebar             the sidebar (connection, Test connection, settings) and Resources
    branch_and_globals  the sidebar's branch picker and globals panel; a run's branch and globals
    data_explorer       the data explorer panel: a type's objects, paged, ordered, filtered
    streamlit_internals every Streamlit internal the page reads, checked on one version range
    browser_memory      the browser memory component (localStorage), the browser-kept history
    saved_queries       saved queries beside the team's library

These modules may import ``st_comps`` (shared widgets), ``st_utils`` (settings, registries,
the session's runtime), ``st_data_structures`` and ``ecc``; ``st_comps`` and ``st_utils`` never
import ``st_page``. ``streamlit_app.py`` wires the panels together.
"""
