"""``samverkan demo``: load the Ystad demo — LPO Ystad's five kommuner, organisations, users, areas and about
33,000 synthetic reports over three years. Idempotent; ``--reset`` regenerates the synthetic reports.
"""

from __future__ import annotations

import datetime as dt
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from samverkan.accounts.models import Role, User
from samverkan.accounts.otp import second_factor_applies
from samverkan.core.demo import synth
from samverkan.core.demo.load import DEFAULT_INCIDENTS, DEFAULT_SEED, DEMO_PASSWORD, USERS, Changes, demo_load
from samverkan.incidents.models import Incident, Source


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--end-date: expected a date as YYYY-MM-DD, got {value!r}") from None


class Command(BaseCommand):
    help = (
        "Load the Ystad demo: the five kommuner of LPO Ystad, three organisations, six users (password "
        f"'{DEMO_PASSWORD}'), districts and villages of Ystad, and synthetic reports over three years."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="delete the demo reports and generate them again")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
        parser.add_argument(
            "--end-date",
            type=_date,
            default=None,
            help="reports occur during the three years before this date (default: today, Europe/Stockholm)",
        )
        parser.add_argument(
            "--incidents",
            type=int,
            default=DEFAULT_INCIDENTS,
            help=f"number of synthetic reports (default {DEFAULT_INCIDENTS})",
        )

    def handle(self, *args, **options):
        if options["incidents"] < 0:
            raise CommandError(f"--incidents must be zero or more, got {options['incidents']}")
        end = options["end_date"] or dt.datetime.now(synth.STOCKHOLM).date()
        start, end = synth.default_period(end)
        began = time.perf_counter()
        try:
            changes = demo_load(
                start=start, end=end, seed=options["seed"], incidents=options["incidents"], reset=options["reset"]
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        elapsed = time.perf_counter() - began
        self._report(changes, start=start, end=end, seed=options["seed"], elapsed=elapsed)

    def _report(self, changes: Changes, *, start: dt.date, end: dt.date, seed: int, elapsed: float) -> None:
        for note in changes.notes:
            self.stdout.write(note)
        if not changes:
            self.stdout.write(self.style.SUCCESS("Nothing to do: the demo is already loaded."))
        else:
            created = ", ".join(f"{count} {what}" for what, count in changes.created.items() if count) or "nothing"
            self.stdout.write(self.style.SUCCESS(f"Created {created} in {elapsed:.1f} s."))
            if changes.created["reports"]:
                self.stdout.write(f"Reports from {start} up to {end - dt.timedelta(days=1)} (seed {seed}).")
        demo = Incident.objects.filter(source=Source.DEMO)
        per_municipality = demo.values_list("municipality__name").annotate(n=Count("id")).order_by("municipality__name")
        self.stdout.write(
            "Demo reports per kommun: " + (", ".join(f"{name} {n}" for name, n in per_municipality) or "none")
        )
        flagged = demo.exclude(personal_data_flags=[]).count()
        self.stdout.write(f"Reports with personal data waiting for review: {flagged}")
        self.stdout.write("")
        self.stdout.write(f"Log-ins (password '{DEMO_PASSWORD}' unless changed since):")
        for username, organisation, role in USERS:
            label = Role(role).label
            self.stdout.write(f"  {username:<12} {role:<11} ({label}) at {organisation}")
        self._report_two_factor()

    def _report_two_factor(self) -> None:
        # Police members and administrators log in with a code from an authenticator app as well, when it is on.
        users = User.objects.filter(username__in=[name for name, _, _ in USERS]).order_by("username")
        needing = [u.username for u in users if second_factor_applies(u)]
        who = " and ".join(needing) or "nobody"
        if settings.SAMVERKAN_OTP_REQUIRED:
            self.stdout.write(f"Two-factor log-in is on: {who} set up an authenticator app at their first log-in.")
        else:
            self.stdout.write(
                "Two-factor log-in is off in this demo (SAMVERKAN_OTP_REQUIRED=false). To try it, start the server "
                f"with SAMVERKAN_OTP_REQUIRED=true; {who} then set up an authenticator app at their first log-in."
            )
