"""Serving uploaded photos: to a logged-in user who may see the record the file
belongs to, with the type its content has, never the one its name suggests.

There is no ``/media/`` file server. ``serve_media`` finds the record by the
stored path (one ``PhotoSource`` per FileField/ImageField of the project; a test
fails when a new field has none), checks it through that record's own scope rule,
and answers with the detected type, ``nosniff`` and ``inline``. Behind nginx
(``MEDIA_ACCEL_REDIRECT_PREFIX``) it only names the file in ``X-Accel-Redirect``
and nginx sends the bytes from an ``internal`` location; otherwise it streams the
file. An API client reads with its token (``Authorization: Token …``) instead of
a session: the photo URLs of ``/api/v1/`` lead here; a refused token is a 401.
Anything else (anonymous: the login page; no record, another area's record, a
file that is not a JPEG, PNG or WebP: 404) gives nothing away.

One public exception: the milestone photos of a community's 民生微实事 notice
(``serve_notice_photo``), behind the notice's signed link and that community's
projects only.
"""

import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.db.models import Model, QuerySet
from django.http import FileResponse, Http404, HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_safe
from rest_framework.exceptions import AuthenticationFailed

from grids.api.authentication import ApiTokenAuthentication
from grids.models import Patrol
from grids.photos import stored_photo_type
from partyorg.microprojects.selectors import micro_project_list
from partyorg.models import MicroProjectMilestone, TopicStep, Wish
from points.models import Award
from tickets.models import Ticket, TicketPhoto


@dataclass(frozen=True)
class PhotoSource:
    """A file field and the rows of its model a user may see."""

    model: type[Model]
    field: str
    visible_to: Callable[[object], QuerySet]

    @property
    def prefix(self) -> str:
        """The folder its files are stored under (``upload_to`` up to the date)."""
        upload_to = self.model._meta.get_field(self.field).upload_to
        return str(upload_to).split("%", 1)[0]

    def may_read(self, user, name: str) -> bool:
        return self.visible_to(user).filter(**{self.field: name}).exists()


PHOTO_SOURCES = (
    PhotoSource(
        TicketPhoto,
        "image",
        lambda user: TicketPhoto.objects.filter(
            ticket__in=Ticket.objects.visible_to(user)
        ),
    ),
    PhotoSource(Patrol, "photo", lambda user: Patrol.objects.visible_to(user)),
    PhotoSource(Wish, "photo", lambda user: Wish.objects.visible_to(user)),
    PhotoSource(
        TopicStep, "attachment", lambda user: TopicStep.objects.visible_to(user)
    ),
    PhotoSource(Award, "photo", lambda user: Award.objects.visible_to(user)),
    PhotoSource(
        MicroProjectMilestone,
        "photo",
        lambda user: MicroProjectMilestone.objects.filter(
            project__in=micro_project_list(actor=user).values("pk")
        ),
    ),
)


def _source_for(name: str) -> PhotoSource | None:
    for source in sorted(PHOTO_SOURCES, key=lambda s: -len(s.prefix)):
        if name.startswith(source.prefix):
            return source
    return None


def _api_reader(request):
    """The account of the request's API token (``Authorization: Token …``),
    None without one; a refused token raises ``AuthenticationFailed``."""
    found = ApiTokenAuthentication().authenticate(request)
    return found[0] if found else None


@require_safe
def serve_media(request, path: str):
    """To the browser's session or, for API clients (the photo URLs of
    ``/api/v1/``), to an API token: the same scope check either way."""
    if not request.user.is_authenticated:
        try:
            user = _api_reader(request)
        except AuthenticationFailed as exc:
            response = HttpResponse(str(exc.detail), status=401)
            response["WWW-Authenticate"] = ApiTokenAuthentication().authenticate_header(
                request
            )
            return response
        if user is None:
            return redirect_to_login(request.get_full_path())
        request.user = user
    name = posixpath.normpath(path)
    if name != path or name.startswith(("/", "..")):
        raise Http404
    source = _source_for(name)
    if source is None or not source.may_read(request.user, name):
        raise Http404
    return _photo_response(name, public=False)


@require_safe
def serve_notice_photo(request, community_id: int, signature: str, milestone_id: int):
    """A milestone photo of a 民生微实事 on the community's public notice page
    (no login): behind the notice's signed link, and only a milestone of that
    community's projects (the ``MicroProjectMilestone`` photo source's rows,
    narrowed to the community)."""
    from partyorg.deliberation.views import signature_valid

    if not signature_valid(community_id, signature):
        raise Http404
    name = (
        MicroProjectMilestone.objects.filter(
            pk=milestone_id, project__community_id=community_id
        )
        .exclude(photo="")
        .values_list("photo", flat=True)
        .first()
    )
    if not name or _source_for(name) is None:
        raise Http404
    return _photo_response(name, public=True)


def _photo_response(name: str, *, public: bool):
    try:
        full_path = default_storage.path(name)
    except SuspiciousFileOperation:
        raise Http404 from None
    content_type = stored_photo_type(full_path)
    if content_type is None:
        raise Http404
    prefix = settings.MEDIA_ACCEL_REDIRECT_PREFIX
    if prefix:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + quote(name)
    else:
        response = FileResponse(
            default_storage.open(name, "rb"), content_type=content_type
        )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=False, filename=posixpath.basename(name)
    )
    if public:
        patch_cache_control(response, public=True, max_age=3600)
    else:
        patch_cache_control(response, private=True, max_age=3600)
        patch_vary_headers(response, ["Cookie", "Authorization"])
    return response
