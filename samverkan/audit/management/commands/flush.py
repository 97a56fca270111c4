"""``samverkan flush``: Django's flush, which empties every table — the audit log too.

The audit table's triggers refuse DELETE (and on PostgreSQL TRUNCATE), so flush lifts them for the moment it empties
the database and puts them back afterwards. Test runs that reset the database between tests rely on this.
"""

from django.core.management.commands import flush
from django.db import connections

from samverkan.audit import triggers


class Command(flush.Command):
    def handle(self, **options):
        with triggers.lifted(connections[options["database"]]):
            return super().handle(**options)
