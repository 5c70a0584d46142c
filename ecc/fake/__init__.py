"""The shipped fake server (like httpx's ``MockTransport``): a client answering with the
driver's real datatypes and errors, and the schema's introspection answers.

May import: any other package of ``ecc``; none imports it (the page wires it in only for
the test-only ``fake_client`` setting).
"""
