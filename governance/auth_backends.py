"""Authentication backends of the project."""

from axes.backends import AxesStandaloneBackend
from django.contrib.auth import backends


class UserWithRegionMixin:
    """Load the logged-in user together with their Region and their count of
    unread notices, in one query instead of three: every scoped page reads
    ``user.region`` (the scope rule) and every page shows the inbox badge
    (``governance.context_processors.inbox``)."""

    def get_user(self, user_id):
        from grids.notifications import unread_count_subquery

        try:
            user = (
                backends.UserModel._default_manager.select_related("region")
                .annotate(inbox_unread_count=unread_count_subquery())
                .get(pk=user_id)
            )
        except backends.UserModel.DoesNotExist:
            return None
        return user if getattr(user, "is_active", True) else None


class AxesBackend(UserWithRegionMixin, AxesStandaloneBackend):
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
