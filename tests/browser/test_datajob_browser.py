"""A background import in a real browser: the upload page queues the job, the
job page's progress bar follows it (static script, no inline code under the
CSP) and shows the outcome when a worker has run it."""

import pytest

from grids import broker, services
from grids.choices import UserRole
from grids.models import DataJob, Household, Region
from tests.grids.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_progress_page_follows_a_queued_import_to_its_end(
    page, live_server, tree, tmp_path, settings, monkeypatch
):
    settings.DATA_JOBS_DIR = tmp_path / "jobs"
    settings.DATA_JOB_INLINE_ROWS = 0  # queued for a worker, not run in the request
    queued = []
    monkeypatch.setattr(broker, "enqueue", lambda task, job_id: queued.append(job_id))
    Region.objects.filter(pk=tree["grids"][0].pk).update(code="370102001001001")
    UserFactory(username="jiedao", role=UserRole.STREET_STAFF, region=tree["street"])
    csv = tmp_path / "households.csv"
    csv.write_text(
        "region_code,address,household_number\n"
        "370102001001001,幸福路1号,H1\n370102001001001,幸福路2号,H2\n"
    )
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "jiedao")
    page.fill("#id_password", "pass-for-tests")
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/grids/datajob/import/?resource=households")
    page.set_input_files("input[type=file]", str(csv))
    with page.expect_navigation():
        page.click("input[type=submit]")
    job = DataJob.objects.get()
    assert queued == [job.pk]
    assert page.url.endswith(f"/admin/grids/datajob/{job.pk}/change/")
    assert "排队中" in page.inner_text("#datajob")
    # A worker runs it; the page, polling, shows the end without a reload by hand.
    services.data_job_run(job_id=job.pk)
    page.wait_for_selector("text=全部 2 行已写入。", timeout=30_000)
    assert page.locator("progress").get_attribute("value") == "100"
    assert "已完成" in page.inner_text("#datajob")
    assert Household.objects.count() == 2
    assert not [e for e in errors if "Content Security Policy" in e]
