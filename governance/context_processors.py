"""Template context shared by every page."""

from grids.notifications import unread_count


def inbox(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"inbox_unread_count": unread_count(user)}
