"""The permission every staff endpoint under /api/admin/ uses."""

from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.permissions import IsAdminUser


class IsStaff(IsAdminUser):
    """Staff users only (DRF IsAdminUser: `is_staff`); others get 401/403."""

    message = "Staff only: log in as a staff user or send a staff user's token."


class StaffApiMixin:
    """Token or session auth, staff only.

    Token comes first so that an anonymous request gets 401 with
    `WWW-Authenticate: Token` (DRF answers 403 when the first authenticator is
    the session one, which has no challenge to offer); a logged-in non-staff
    user gets 403 either way.
    """

    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [IsStaff]
