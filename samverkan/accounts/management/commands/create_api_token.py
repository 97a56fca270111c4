"""``samverkan create_api_token USER NAME``: a bearer token for an API client, shown once."""

from django.core.management.base import BaseCommand, CommandError

from samverkan.accounts.models import ApiToken, User


class Command(BaseCommand):
    help = "Create an API token for a user. The token is printed once; only its hash is stored."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("name", help="what the token is for, e.g. the client's name")

    def handle(self, *args, username: str, name: str, **options):
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}") from None
        key = ApiToken.new_key()
        ApiToken.objects.create(user=user, name=name, key_hash=ApiToken.hash_key(key), prefix=key[:8])
        self.stdout.write(key)
