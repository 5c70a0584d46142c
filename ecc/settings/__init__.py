"""What the operator sets: the console's settings from secrets (``ConsoleSettings``,
``Secret``), who may sign in, and the security headers served without a proxy.

May import: nothing else of ``ecc``.
"""
