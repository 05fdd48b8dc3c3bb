"""Authentication backends of the project."""

from axes.backends import AxesStandaloneBackend


class AxesBackend(AxesStandaloneBackend):
    """django-axes' lockout check, for logins that come with a request (the login
    page, the admin's login). ``authenticate`` without a request (a shell,
    ``Client.login`` in tests) has no address to count failures by and is let
    through to the next backend instead of being refused."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)
