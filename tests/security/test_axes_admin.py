"""django-axes ships no Chinese catalogue: its admin pages read in Chinese
through ours (governance/wording.py, governance.apps.AxesConfig)."""

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_lockout_pages_are_in_chinese(client, admin_user):
    attempt = AccessAttempt.objects.create(
        username="someone",
        ip_address="10.0.0.1",
        user_agent="test",
        http_accept="*/*",
        path_info="/admin/login/",
        get_data="",
        post_data="",
        failures_since_start=5,
    )
    client.force_login(admin_user)
    listing = client.get(reverse("admin:axes_accessattempt_changelist")).content
    listing = listing.decode()
    assert "登录尝试" in listing
    assert "登录锁定" in listing  # the app's name in the breadcrumbs
    assert "尝试时间" in listing and "登录失败次数" in listing
    assert "已锁定" in listing  # the status column and filter
    for english in ("Access attempts", "Attempt Time", "Failed Logins", "Axes"):
        assert english not in listing
    page = client.get(reverse("admin:axes_accessattempt_change", args=[attempt.pk]))
    body = page.content.decode()
    assert "表单数据" in body and "请求信息" in body
    assert "Form Data" not in body and "Meta Data" not in body
    logs = client.get(reverse("admin:axes_accesslog_changelist")).content.decode()
    assert "登录日志" in logs and "退出时间" in logs
