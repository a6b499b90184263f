"""The physical world: pure models and the SimPy processes that advance them.

Nothing in this package imports :mod:`twin` (shared/DESIGN.md section 4): the world writes its own
report types into outboxes it is given and reads decisions from inboxes it is given.
"""
