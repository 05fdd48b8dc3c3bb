import datetime as dt

from django.urls import reverse
from django.utils import timezone

from partyorg.choices import WishState
from partyorg.models import Wish

from .factories import PartyMemberFactory, WishFactory, make_party_tree, png_upload


def test_grid_worker_posts_a_wish_from_the_phone(client, grid_worker, tree):
    client.force_login(grid_worker)
    page = client.get(reverse("m:party:wish_new"))
    assert page.status_code == 200
    # Only the worker's own grid is offered.
    assert tree["grids"][0].name in page.content.decode()
    assert tree["grids"][1].name not in page.content.decode()
    response = client.post(
        reverse("m:party:wish_new"),
        {
            "region": tree["grids"][0].pk,
            "title": "一副老花镜",
            "beneficiary": "独居老人",
        },
    )
    wish = Wish.objects.get(title="一副老花镜")
    assert response.status_code == 302
    assert response["Location"] == reverse("m:party:wish_detail", args=[wish.pk])
    assert (wish.posted_by, wish.state) == (grid_worker, WishState.POSTED)


def test_posting_in_another_grid_is_refused(client, grid_worker, tree):
    client.force_login(grid_worker)
    response = client.post(
        reverse("m:party:wish_new"),
        {"region": tree["grids"][1].pk, "title": "x", "beneficiary": "y"},
    )
    assert response.status_code == 200  # the form refuses the choice
    assert not Wish.objects.exists()


def test_supervisor_cannot_post(client, supervisor):
    client.force_login(supervisor)
    assert client.get(reverse("m:party:wish_new")).status_code == 404


def test_list_shows_open_wishes_in_scope_and_flags_stale(client, grid_worker, tree):
    WishFactory(
        title="十天没人认领",
        region=tree["grids"][0],
        posted_at=timezone.now() - dt.timedelta(days=10),
    )
    WishFactory(title="已确认的", region=tree["grids"][0], state=WishState.WITHDRAWN)
    WishFactory(title="别的网格", region=tree["grids"][1])
    client.force_login(grid_worker)
    body = client.get(reverse("m:party:wish_list")).content.decode()
    assert "十天没人认领" in body
    assert "已确认的" not in body
    assert "别的网格" not in body
    assert 'class="overdue"' in body
    stale = client.get(reverse("m:party:wish_list"), {"stale": "yes"})
    assert "十天没人认领" in stale.content.decode()


def test_detail_claims_and_fulfils(client, grid_worker, tree):
    party = make_party_tree(tree)
    member = PartyMemberFactory(name="刘红梅", organisation=party["branches"][0])
    wish = WishFactory(region=tree["grids"][0])
    url = reverse("m:party:wish_detail", args=[wish.pk])
    client.force_login(grid_worker)
    assert client.post(url, {"action": "claim", "member": member.pk}).status_code == 302
    response = client.post(
        url, {"action": "fulfil", "note": "送到了", "photo": png_upload()}
    )
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "刘*梅" in page
    wish.refresh_from_db()
    assert wish.state == WishState.FULFILLED


def test_detail_shows_a_refused_step(client, grid_worker, tree):
    party = make_party_tree(tree)
    member = PartyMemberFactory(organisation=party["branches"][0])
    wish = WishFactory(
        region=tree["grids"][0], state=WishState.FULFILLED, claimed_by=member
    )
    client.force_login(grid_worker)
    response = client.post(
        reverse("m:party:wish_detail", args=[wish.pk]), {"action": "confirm"}
    )
    assert response.status_code == 200
    assert 'value="confirm"' not in response.content.decode()  # not offered
    wish.refresh_from_db()
    assert wish.state == WishState.FULFILLED


def test_detail_outside_scope_is_404(client, grid_worker, tree):
    wish = WishFactory(region=tree["grids"][1])
    client.force_login(grid_worker)
    url = reverse("m:party:wish_detail", args=[wish.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "withdraw"}).status_code == 404
    wish.refresh_from_db()
    assert wish.state == WishState.POSTED


def test_detail_offers_only_the_steps_the_user_may_take(client, grid_worker, tree):
    """A fulfilled wish waits for community staff: the grid worker is offered
    nothing, and is not told the wish is closed."""
    party = make_party_tree(tree)
    member = PartyMemberFactory(organisation=party["branches"][0])
    wish = WishFactory(
        region=tree["grids"][0], state=WishState.FULFILLED, claimed_by=member
    )
    client.force_login(grid_worker)
    body = client.get(reverse("m:party:wish_detail", args=[wish.pk])).content.decode()
    assert 'name="action"' not in body
    assert "该心愿已关闭" not in body
    assert "下一步不由您记录" in body


def test_old_wish_urls_redirect_to_the_phone_app(client, grid_worker):
    client.force_login(grid_worker)
    response = client.get("/party/wishes/?state=posted")
    assert response.status_code in (301, 302)
    assert response["Location"] == reverse("m:party:wish_list") + "?state=posted"
    assert client.get("/party/wishes/7/")["Location"] == reverse(
        "m:party:wish_detail", args=[7]
    )


def test_a_wish_posted_twice_with_one_key_is_one_wish(client, grid_worker, tree):
    client.force_login(grid_worker)
    data = {
        "region": tree["grids"][0].pk,
        "title": "一副老花镜",
        "beneficiary": "独居老人",
        "idempotency_key": "9d7c2f1e-0000-4000-8000-000000000001",
    }
    first = client.post(reverse("m:party:wish_new"), data)
    again = client.post(reverse("m:party:wish_new"), data)
    assert first["Location"] == again["Location"]
    assert Wish.objects.count() == 1
