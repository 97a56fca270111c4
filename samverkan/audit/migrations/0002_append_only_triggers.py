"""Database triggers that refuse UPDATE and DELETE (and on PostgreSQL TRUNCATE) of audit events."""

from django.db import migrations

from samverkan.audit import triggers


def install(apps, schema_editor):
    for sql in triggers.statements(schema_editor.connection.vendor, install=True):
        schema_editor.execute(sql, params=None)


def remove(apps, schema_editor):
    for sql in triggers.statements(schema_editor.connection.vendor, install=False):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_audit_events")]

    operations = [migrations.RunPython(install, remove)]
