"""The second factor for staff (django-otp, TOTP): enrol an authenticator app
and verify a code once per login. Enforced before the admin by
governance.middleware_security.StaffOtpMiddleware."""

from base64 import b32encode

from django import forms
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from grids.qr import qr_svg


class TokenForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("Six-digit code from the authenticator app"),
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}
        ),
    )


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("admin:index")


def _require_staff(request):
    if not request.user.is_staff:
        raise PermissionDenied


@login_required
@require_http_methods(["GET", "POST"])
def otp_setup(request):
    """Enrol: a new secret as a QR code (and as text), confirmed by a first code.
    An account that already has a confirmed device verifies instead; a lost
    phone is reset by an administrator (删除 the device in the admin)."""
    _require_staff(request)
    if TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
        return redirect_to_login(_next_url(request), login_url=reverse("otp_verify"))
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=request.user, confirmed=False)
            .first()
        ) or TOTPDevice.objects.create(
            user=request.user, name=_("Authenticator app"), confirmed=False
        )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].strip()):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            return redirect(_next_url(request))
        form.add_error("token", _("This code is wrong or has expired."))
    return render(
        request,
        "governance/otp_setup.html",
        {
            "form": form,
            "qr": qr_svg(device.config_url, title=_("Authenticator app")),
            "secret": b32encode(device.bin_key).decode(),
            "next": _next_url(request),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request):
    """Verify a code from an enrolled device; a run of wrong codes makes the
    device wait longer each time (django-otp's throttling)."""
    _require_staff(request)
    if request.user.is_verified():
        return redirect(_next_url(request))
    devices = list(devices_for_user(request.user, confirmed=True))
    if not devices:
        return redirect_to_login(_next_url(request), login_url=reverse("otp_setup"))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"].strip()
        for device in devices:
            allowed, _details = device.verify_is_allowed()
            if allowed and device.verify_token(token):
                otp_login(request, device)
                return redirect(_next_url(request))
        form.add_error("token", _("This code is wrong or has expired."))
    return render(
        request,
        "governance/otp_verify.html",
        {"form": form, "next": _next_url(request)},
    )
