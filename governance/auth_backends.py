"""Authentication backends of the project."""

from axes.backends import AxesStandaloneBackend
from django.contrib.auth import backends


class UserWithRegionMixin:
    """Load the logged-in user together with their Region (one query instead of
    two): every scoped page reads ``user.region`` (the scope rule)."""

    def get_user(self, user_id):
        try:
            user = backends.UserModel._default_manager.select_related("region").get(
                pk=user_id
            )
        except backends.UserModel.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


class AxesBackend(AxesStandaloneBackend):
    """django-axes' lockout check, for logins that come with a request (the login
    page, the admin's login). ``authenticate`` without a request (a shell,
    ``Client.login`` in tests) has no address to count failures by and is let
    through to the next backend instead of being refused."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


class ModelBackend(UserWithRegionMixin, backends.ModelBackend):
    """Django's username and password check."""
