"""One file per revision of the ``lc_*`` tables, oldest first by their ``down_revision``."""
