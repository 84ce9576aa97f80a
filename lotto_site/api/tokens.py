"""API tokens for consumers and operators (DRF's TokenAuthentication)."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token


@transaction.atomic
def token_issue(*, username: str, create_user: bool = False, rotate: bool = False):
    """The user's API token, (token, created); a new key when `rotate`.

    `create_user` makes an account without a password (a consumer app that
    only ever calls the API); otherwise an unknown username is refused.
    """
    users = get_user_model()
    user = users.objects.filter(**{users.USERNAME_FIELD: username}).first()
    if user is None:
        if not create_user:
            raise ValidationError(
                _("There is no user %(username)s (add --create-user to create one).")
                % {"username": username},
                code="unknown_user",
            )
        user = users.objects.create_user(**{users.USERNAME_FIELD: username})
        user.set_unusable_password()
        user.save(update_fields=["password"])
    if not user.is_active:
        raise ValidationError(
            _("User %(username)s is inactive; activate it before issuing a token.")
            % {"username": username},
            code="inactive_user",
        )
    if rotate:
        Token.objects.filter(user=user).delete()
    return Token.objects.get_or_create(user=user)
