"""DevDiag analytics warehouse: one module per job, each with a ``devdiag-*`` command.

The SQL the package applies lives beside it, in ``migrations/`` and ``sql/`` of
the project; :data:`devdiag_warehouse.config.ROOT` points there.
"""
