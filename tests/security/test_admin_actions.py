"""Every admin answers a tampered action selection (a value that is no key)
with a message, never a 500: ``grids.admin_mixins.SafeActionSelectionMixin`` is in
every shared admin mixin, and admins built on none of them mix it in."""

import pytest
from django.contrib import admin
from django.contrib.admin import helpers
from django.test import RequestFactory
from django.urls import reverse

from grids.admin_mixins import SafeActionSelectionMixin
from tests.security.walk import admin_ids, registered_admins

pytestmark = pytest.mark.django_db


def test_every_registered_admin_checks_the_selection():
    missing = [
        model._meta.label
        for model, model_admin in registered_admins()
        if not isinstance(model_admin, SafeActionSelectionMixin)
    ]
    assert missing == []


@pytest.mark.parametrize(
    "model_admin", [ma for _m, ma in registered_admins()], ids=admin_ids()
)
@pytest.mark.parametrize("selected", ["abc", "", "1\x00"])
def test_a_selection_that_is_no_key_is_a_message(
    client, admin_user, model_admin, selected
):
    request = RequestFactory().get("/")
    request.user = admin_user
    actions = model_admin.get_actions(request)
    opts = model_admin.model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    client.force_login(admin_user)
    response = client.post(
        url,
        {
            "action": next(iter(actions), "delete_selected"),
            helpers.ACTION_CHECKBOX_NAME: [selected],
            "index": "0",
        },
        follow=True,
    )
    assert response.status_code == 200
    if actions:  # a list without actions ignores the selection
        messages = [str(m) for m in response.context["messages"]]
        assert messages, model_admin


def test_the_sites_admins_are_all_walked():
    assert len(registered_admins()) == len(admin.site._registry)
