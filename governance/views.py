"""Cross-app pages: the landing page after login."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render


@login_required
def home(request):
    """Staff go to the admin; grid workers and other accounts without admin
    access get the phone menu of the pages they may use."""
    if request.user.is_staff:
        return redirect("admin:index")
    return render(request, "governance/home.html")
