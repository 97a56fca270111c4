"""``samverkan serve``: run the web server for a local installation (default 127.0.0.1:8000)."""

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the Samverkan web server on this machine (for production, see docs/operations.md)."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000", help="address:port to listen on")

    def handle(self, *args, **options):
        self.stdout.write(f"Samverkan: http://{options['addrport']}/  (stop with Ctrl+C)")
        call_command("runserver", options["addrport"], use_reloader=False)
