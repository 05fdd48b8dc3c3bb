"""Template context shared by every page."""

from grids.notifications import unread_for


def inbox(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"inbox_unread_count": unread_for(user).count()}
