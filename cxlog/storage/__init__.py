"""The one door to the database: connections and transactions, the
frozen migrations, the settings table, the audit trail, backups and
all-or-nothing files.

May import: core. No domain module: a migration carries its own SQL.
"""
