from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from lotto_site.api.tokens import token_issue


class Command(BaseCommand):
    help = (
        "Print the API token of USERNAME, issuing one if it has none. The client "
        "sends it as `Authorization: Token <key>`. --rotate replaces the key (the "
        "old one stops working); --create-user adds a password-less account for "
        "a consumer app."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--rotate", action="store_true")
        parser.add_argument("--create-user", action="store_true")

    def handle(self, *args, username, rotate, create_user, **options):
        try:
            token, created = token_issue(
                username=username, create_user=create_user, rotate=rotate
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        if created:
            self.stderr.write(
                _("Issued a new token for %(user)s.") % {"user": username}
            )
        else:
            self.stderr.write(
                _("%(user)s already has this token (--rotate replaces it).")
                % {"user": username}
            )
        self.stdout.write(token.key)
