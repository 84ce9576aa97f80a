"""The permission every staff endpoint under /api/admin/ uses."""

from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.parsers import JSONParser
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAdminUser
from rest_framework.settings import api_settings


class IsStaff(IsAdminUser):
    """Staff users only (DRF IsAdminUser: `is_staff`); others get 401/403."""

    message = "Staff only: log in as a staff user or send a staff user's token."


def needs(codename: str) -> type[BasePermission]:
    """A DRF permission: the user holds `mlops.<codename>`.

    The same permission the admin asks for the same thing: a staff user who
    gets 403 on an admin list must not read its rows through the API.
    """

    class HasModelPermission(BasePermission):
        message = f"This needs the mlops.{codename} permission."

        def has_permission(self, request, view):
            return request.user.has_perm(f"mlops.{codename}")

    return HasModelPermission


class StaffApiMixin:
    """Token or session auth, staff only, JSON bodies only.

    Token comes first so that an anonymous request gets 401 with
    `WWW-Authenticate: Token` (DRF answers 403 when the first authenticator is
    the session one, which has no challenge to offer); a logged-in non-staff
    user gets 403 either way.
    """

    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [IsStaff]
    # A form body is 415: `-d '{"dry_run": true}'` sent form-encoded once ran a
    # real cleanup (the form's one key was the JSON text, dry_run its default).
    parser_classes = [
        parser
        for parser in api_settings.DEFAULT_PARSER_CLASSES
        if issubclass(parser, JSONParser)
    ]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method not in SAFE_METHODS:
            # Parse now, after the permission checks: a body that is not JSON is
            # 415 even where the view reads none (backup, verify).
            request.data  # noqa: B018
