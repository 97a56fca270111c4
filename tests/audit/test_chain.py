"""Append-only in the model, the database and the admin; the checksum chain shows tampering in the table and in
exported files; concurrent appends keep one chain."""

from __future__ import annotations

import json
import threading

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction

from samverkan.audit import chain, triggers
from samverkan.audit.models import AppendOnlyError, AuditAction, AuditEvent
from samverkan.audit.services import record

POSTGRESQL = connection.vendor == "postgresql"


def fill(n: int) -> list[AuditEvent]:
    return [record(AuditAction.EXPORT, details={"kind": "csv", "rows": i}) for i in range(n)]


def verify_table() -> str:
    try:
        call_command("audit_verify")
    except CommandError as exc:
        assert exc.returncode == 1
        return str(exc)
    return ""


# --- append-only ---------------------------------------------------------------------------------------------------


def test_the_model_refuses_changes_and_removals(db):
    event = fill(1)[0]
    event.details = {"kind": "tampered"}
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="export")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_create([AuditEvent(seq=2, action="export")])
    # An event made by hand, without the chain's hash, is refused too: only record() appends.
    with pytest.raises(AppendOnlyError):
        AuditEvent(seq=2, prev_hash=event.hash, hash="f" * 64, action="export").save()
    assert AuditEvent.objects.get().details == {"kind": "csv", "rows": 0}


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET actor_username = 'someone'",
        "UPDATE audit_auditevent SET details = '{}' WHERE seq = 1",
        "DELETE FROM audit_auditevent",
        "DELETE FROM audit_auditevent WHERE seq = 2",
    ],
)
def test_the_database_refuses_update_and_delete(db, sql):
    fill(2)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert AuditEvent.objects.count() == 2 and verify_table() == ""


@pytest.mark.skipif(not POSTGRESQL, reason="TRUNCATE is PostgreSQL's")
def test_postgresql_refuses_truncate(db):
    fill(1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.count() == 1


def test_the_admin_cannot_change_it():
    assert AuditEvent not in admin.site._registry
    assert AuditEvent._meta.default_permissions == ("view",)


# --- the chain in the table ----------------------------------------------------------------------------------------


def test_an_intact_chain_verifies(db, capsys):
    events = fill(3)
    assert events[0].prev_hash == chain.GENESIS
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert [e.seq for e in events] == [1, 2, 3]
    call_command("audit_verify")
    assert f"3 audit events, chain intact. Last event number 3, hash {events[-1].hash}." in capsys.readouterr().out


def test_a_changed_row_breaks_the_chain_at_that_row(db):
    fill(4)
    with triggers.lifted(connection), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET actor_username = 'someone else' WHERE seq = 3")
    assert verify_table().startswith("The chain is broken at row 3 (event number 3): the hash does not match")


def test_a_changed_row_with_a_recomputed_hash_breaks_the_link_to_the_next(db):
    fill(4)
    forged = AuditEvent.objects.get(seq=2)
    forged.details = {"kind": "csv", "rows": 999}
    new_hash = chain.event_hash(forged.prev_hash, forged.export_fields())
    with triggers.lifted(connection), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET details = %s, hash = %s WHERE seq = 2",
            [json.dumps(forged.details), new_hash],
        )
    assert verify_table() == ("The chain is broken at row 3 (event number 3): not linked to the previous event.")


def test_a_removed_row_shows_where_it_was(db):
    fill(4)
    with triggers.lifted(connection), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = 2")
    assert "at row 2 (event number 3): event number 3 where 2 was expected" in verify_table()


def test_the_triggers_come_back_after_being_lifted(db):
    fill(1)
    with triggers.lifted(connection):
        pass
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent")


# --- exported files ------------------------------------------------------------------------------------------------


def export(tmp_path, name="export.jsonl"):
    path = tmp_path / name
    call_command("audit_export", "--out", str(path))
    return path


def verify_file(path) -> str:
    try:
        call_command("audit_verify", "--file", str(path))
    except CommandError as exc:
        assert exc.returncode == 1
        return str(exc)
    return ""


def test_an_export_verifies_and_is_itself_recorded(db, tmp_path):
    fill(3)
    path = export(tmp_path)
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["seq"] for line in lines] == [1, 2, 3]
    assert set(lines[0]) == {*chain.HASHED_FIELDS, "prev_hash", "hash"}
    assert verify_file(path) == ""
    exported = AuditEvent.objects.get(seq=4)
    assert exported.action == "audit_exported" and exported.details == {"format": "jsonl", "rows": 3, "via": "command"}


def test_an_edited_export_fails_at_the_edited_line(db, tmp_path):
    fill(3)
    path = export(tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    row = json.loads(lines[1])
    row["actor_username"] = "someone"
    lines[1] = json.dumps(row)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert verify_file(path).startswith("The chain is broken at line 2 (event number 2): the hash does not match")


def test_an_export_edited_with_a_recomputed_hash_fails_at_the_next_line(db, tmp_path):
    fill(3)
    path = export(tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    row = json.loads(lines[0])
    row["details"] = {"kind": "nothing"}
    row["hash"] = chain.event_hash(row["prev_hash"], row)
    lines[0] = json.dumps(row)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert verify_file(path) == "The chain is broken at line 2 (event number 2): not linked to the previous event."


def test_a_broken_line_and_a_missing_file_are_reported(db, tmp_path):
    fill(2)
    path = export(tmp_path)
    path.write_text(path.read_text(encoding="utf-8") + "not json\n", encoding="utf-8")
    assert "at line 3 (event number None): unreadable event" in verify_file(path)
    with pytest.raises(CommandError) as missing:
        call_command("audit_verify", "--file", str(tmp_path / "nothing.jsonl"))
    assert missing.value.returncode == 2


def test_a_filtered_export_checks_links_only_where_events_are_consecutive():
    def event(seq, prev):
        fields = {name: None for name in chain.HASHED_FIELDS} | {"seq": seq, "details": {}}
        return {**fields, "prev_hash": prev, "hash": chain.event_hash(prev, fields)}

    first = event(1, chain.GENESIS)
    second = event(2, first["hash"])
    later = event(7, "a" * 64)  # its predecessor is not in the file: the link cannot be checked
    assert list(chain.verify([first, second, later], whole_chain=False)) == []
    unlinked = event(3, "b" * 64)
    assert [b.reason for b in chain.verify([first, second, unlinked], whole_chain=False)] == [
        "not linked to the previous event"
    ]
    assert [b.reason for b in chain.verify([second, first], whole_chain=False)] == ["events out of order"]
    assert [b.position for b in chain.verify([first, later], whole_chain=True)] == [2]


# --- one chain under concurrency ------------------------------------------------------------------------------------


def test_sequential_appends_keep_one_chain(db):
    fill(20)
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, 21))
    assert verify_table() == ""


@pytest.mark.skipif(not POSTGRESQL, reason="threads with their own connections need PostgreSQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_appends_keep_one_chain():
    threads, per_thread = 6, 15
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            start.wait()
            for _ in range(per_thread):
                # Each in a transaction that also does other work, as a change and its event do.
                with transaction.atomic():
                    record(AuditAction.EXPORT, details={"kind": "csv"})
        except BaseException as exc:  # handed to the test thread, which reports it
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    assert AuditEvent.objects.count() == threads * per_thread
    assert verify_table() == ""


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_emptying_the_whole_database_lifts_the_guard_only_for_that_moment():
    # `flush` is how test runs reset the database between tests that commit; it must empty the log as well.
    fill(2)
    call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True)
    assert not AuditEvent.objects.exists()
    fill(1)
    with pytest.raises(DatabaseError, match="append-only"), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent")
    assert AuditEvent.objects.count() == 1
