"""The beat schedule admin answers malformed task names with a form error."""

import pytest
from django_celery_beat.models import PeriodicTask

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("task", ["", "x" * 1000, "bad\x00name"])
def test_a_malformed_task_name_is_a_form_error_not_a_500(admin_user, client, task):
    """Found by the form fuzz: an overlong task name was a KeyError (500)."""
    client.force_login(admin_user)
    response = client.post(
        "/admin/django_celery_beat/periodictask/add/",
        {"name": "夜间任务", "task": task, "regtask": "", "enabled": "on"},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not PeriodicTask.objects.filter(name="夜间任务").exists()
