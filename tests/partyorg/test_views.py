import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from grids.choices import UserRole
from partyorg.choices import WishState
from partyorg.models import PartyOrg, Wish
from tests.grids.factories import UserFactory

from .factories import (
    PartyMemberFactory,
    RegistrationFactory,
    ServiceRecordFactory,
    WishFactory,
    make_party_tree,
    png_upload,
)


@pytest.fixture
def party(tree):
    return make_party_tree(tree)


def test_coverage_page_shows_rate_and_uncovered_grids(
    client, street_staff, party, tree
):
    client.force_login(street_staff)
    response = client.get(reverse("partyorg:coverage"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "2 / 4" in body
    assert tree["grids"][2].name in body
    assert tree["grids"][0].name not in body.split('class="uncovered"')[1]


def test_coverage_page_drills_down(client, street_staff, party, tree):
    client.force_login(street_staff)
    response = client.get(
        reverse("partyorg:coverage"), {"region": tree["communities"][1].pk}
    )
    assert response.status_code == 200
    assert "0 / 2" in response.content.decode()


def test_coverage_page_outside_scope_is_404(client, community_staff, party, tree):
    client.force_login(community_staff)
    response = client.get(
        reverse("partyorg:coverage"), {"region": tree["communities"][1].pk}
    )
    assert response.status_code == 404


def test_coverage_page_needs_login(client):
    response = client.get(reverse("partyorg:coverage"))
    assert response.status_code == 302


def test_service_totals_page_masks_names_and_is_scoped(client, community_staff, tree):
    mine = RegistrationFactory(community=tree["communities"][0])
    mine.member.name = "张三丰"
    mine.member.save(update_fields=["name"])
    ServiceRecordFactory(registration=mine, hours=3)
    ServiceRecordFactory(
        registration=RegistrationFactory(community=tree["communities"][1])
    )
    client.force_login(community_staff)
    response = client.get(reverse("partyorg:service_totals"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "张*丰" in body and "张三丰" not in body
    assert tree["communities"][1].name not in body
    outside = client.get(
        reverse("partyorg:service_totals"), {"region": tree["communities"][1].pk}
    )
    assert outside.status_code == 404


# --- admin ----------------------------------------------------------------------


def test_admin_changelists_are_scoped(client, community_staff, party, tree):
    PartyMemberFactory(name="本社区党员", organisation=party["branches"][0])
    PartyMemberFactory(name="外社区党员", organisation=party["committees"][1])
    WishFactory(title="本社区心愿", region=tree["grids"][0])
    WishFactory(title="外社区心愿", region=tree["grids"][2])
    client.force_login(community_staff)
    members = client.get(reverse("admin:partyorg_partymember_changelist"))
    assert members.status_code == 200
    assert "本社区党员" in members.content.decode()
    assert "外社区党员" not in members.content.decode()
    wishes = client.get(reverse("admin:partyorg_wish_changelist"))
    assert "本社区心愿" in wishes.content.decode()
    assert "外社区心愿" not in wishes.content.decode()
    orgs = client.get(reverse("admin:partyorg_partyorg_changelist"))
    body = orgs.content.decode()
    assert party["committees"][0].name in body
    assert party["committees"][1].name not in body


def test_admin_member_list_masks_phones(client, community_staff, party):
    PartyMemberFactory(organisation=party["branches"][0], phone="13812345678")
    client.force_login(community_staff)
    body = client.get(reverse("admin:partyorg_partymember_changelist")).content.decode()
    assert "138****5678" in body
    assert "13812345678" not in body


def test_admin_stale_filter(client, community_staff, tree):
    import datetime as dt

    from django.utils import timezone

    WishFactory(
        title="很久没人认领",
        region=tree["grids"][0],
        posted_at=timezone.now() - dt.timedelta(days=9),
    )
    WishFactory(title="刚发布", region=tree["grids"][0])
    client.force_login(community_staff)
    body = client.get(
        reverse("admin:partyorg_wish_changelist"), {"stale": "yes"}
    ).content.decode()
    assert "很久没人认领" in body
    assert "刚发布" not in body


def test_admin_posts_a_wish_through_the_service(client, community_staff, tree):
    client.force_login(community_staff)
    response = client.post(
        reverse("admin:partyorg_wish_add"),
        {
            "region": tree["grids"][0].pk,
            "title": "修好轮椅",
            "beneficiary": "残疾老人",
            "estimated_value": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    wish = Wish.objects.get(title="修好轮椅")
    assert wish.community == tree["communities"][0]
    assert wish.events.count() == 1


def test_admin_act_page_claims_and_fulfils(client, community_staff, party, tree):
    member = PartyMemberFactory(organisation=party["branches"][0])
    wish = WishFactory(region=tree["grids"][0])
    url = reverse("admin:partyorg_wish_act", args=[wish.pk])
    client.force_login(community_staff)
    assert client.get(url).status_code == 200
    response = client.post(url, {"action": "claim", "member": member.pk})
    assert response.status_code == 302
    response = client.post(
        url, {"action": "fulfil", "note": "已修好", "photo": png_upload()}
    )
    assert response.status_code == 302
    wish.refresh_from_db()
    assert (wish.state, wish.claimed_by) == (WishState.FULFILLED, member)


def test_admin_act_page_shows_a_refusal(client, community_staff, party, tree):
    member = PartyMemberFactory(organisation=party["branches"][0])
    wish = WishFactory(
        region=tree["grids"][0], state=WishState.CLAIMED, claimed_by=member
    )
    client.force_login(community_staff)
    url = reverse("admin:partyorg_wish_act", args=[wish.pk])
    response = client.post(url, {"action": "fulfil", "note": "", "photo": ""})
    assert response.status_code == 200
    assert "messagelist" in response.content.decode()
    wish.refresh_from_db()
    assert wish.state == WishState.CLAIMED


def test_admin_act_page_outside_scope_is_404(client, community_staff, tree):
    wish = WishFactory(region=tree["grids"][2])
    client.force_login(community_staff)
    response = client.get(reverse("admin:partyorg_wish_act", args=[wish.pk]))
    assert response.status_code == 404


def test_admin_creates_org_through_the_service(client, street_staff, party, tree):
    client.force_login(street_staff)
    response = client.post(
        reverse("admin:partyorg_partyorg_add"),
        {
            "parent": party["committees"][1].pk,
            "name": "第三网格党支部",
            "org_type": "grid_branch",
            "region": tree["grids"][2].pk,
            "secretary": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    response = client.post(
        reverse("admin:partyorg_partyorg_add"),
        {
            "parent": party["committees"][1].pk,
            "name": "错误党支部",
            "org_type": "grid_branch",
            "region": tree["grids"][0].pk,  # another community's grid
            "is_active": "on",
        },
        follow=True,
    )
    # The form comes back with the placement rule's message (in the page's
    # language), and nothing is written.
    assert response.status_code == 200
    assert response.redirect_chain == []
    with translation.override("zh-hans"):
        message = escape(
            translation.gettext(
                "The region must lie inside the parent organisation's region."
            )
        )
    assert message != "The region must lie inside the parent organisation's region."
    assert message in response.content.decode()
    assert not PartyOrg.objects.filter(name="错误党支部").exists()


def test_supervisor_reads_but_may_not_add(client, supervisor, party):
    client.force_login(supervisor)
    assert client.get(reverse("admin:partyorg_partyorg_changelist")).status_code == 200
    assert client.get(reverse("admin:partyorg_partyorg_add")).status_code == 403


def test_other_district_staff_see_nothing(client, party, other_tree):
    outsider = UserFactory(role=UserRole.STREET_STAFF, region=other_tree["street"])
    client.force_login(outsider)
    body = client.get(reverse("admin:partyorg_partyorg_changelist")).content.decode()
    assert party["working_committee"].name not in body


def test_admin_adds_in_service_member_with_registration(client, community_staff, tree):
    client.force_login(community_staff)
    assert client.get(reverse("admin:partyorg_partymember_add")).status_code == 200
    response = client.post(
        reverse("admin:partyorg_partymember_add"),
        {
            "name": "孙在职",
            "phone": "13700001234",
            "organisation": "",
            "community": tree["communities"][0].pk,
            "is_in_service": "on",
            "employer": "区教育局",
            "registrations-TOTAL_FORMS": "0",
            "registrations-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    from partyorg.models import PartyMember

    member = PartyMember.objects.get(name="孙在职")
    assert member.registrations.get().community == tree["communities"][0]


def test_admin_member_community_choices_are_scoped(client, community_staff, tree):
    client.force_login(community_staff)
    body = client.get(reverse("admin:partyorg_partymember_add")).content.decode()
    assert f'value="{tree["communities"][0].pk}"' in body
    assert f'value="{tree["communities"][1].pk}"' not in body


def test_admin_lists_link_to_the_reports(client, street_staff, party):
    client.force_login(street_staff)
    orgs = client.get(reverse("admin:partyorg_partyorg_changelist")).content.decode()
    assert reverse("partyorg:coverage") in orgs
    log = client.get(reverse("admin:partyorg_servicerecord_changelist"))
    assert reverse("partyorg:service_totals") in log.content.decode()


# "²" and "٣" pass str.isdigit() but int() refuses "²"; "9"*30 overflows the
# database's integer. None of them may turn into a 500.
ODD_NUMBERS = ["²", "٣", "1²", "-1", "abc", "9" * 30, " 1"]


@pytest.mark.parametrize("raw", ODD_NUMBERS)
def test_coverage_page_malformed_region_is_404(client, street_staff, party, raw):
    client.force_login(street_staff)
    response = client.get(reverse("partyorg:coverage"), {"region": raw})
    assert response.status_code == 404


@pytest.mark.parametrize("raw", ODD_NUMBERS)
def test_service_totals_page_malformed_params(client, community_staff, tree, raw):
    from django.utils import timezone

    client.force_login(community_staff)
    response = client.get(reverse("partyorg:service_totals"), {"region": raw})
    assert response.status_code == 404
    response = client.get(reverse("partyorg:service_totals"), {"year": raw})
    # A malformed year falls back to this year; an absurd number is a 404.
    assert response.status_code in {200, 404}
    if response.status_code == 200:
        assert response.context["year"] == timezone.localdate().year


def test_service_totals_page_year_two_is_this_year(client, community_staff, tree):
    from django.utils import timezone

    client.force_login(community_staff)
    response = client.get(reverse("partyorg:service_totals"), {"year": "²"})
    assert response.status_code == 200
    assert response.context["year"] == timezone.localdate().year
    response = client.get(reverse("partyorg:service_totals"), {"year": "2024"})
    assert response.context["year"] == 2024


@pytest.mark.parametrize("raw", ODD_NUMBERS)
def test_wish_list_malformed_params(client, community_staff, tree, raw):
    client.force_login(community_staff)
    response = client.get(
        reverse("m:party:wish_list"), {"state": raw, "stale": raw, "region": raw}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "model", ["partyorg", "partymember", "registration", "servicerecord", "wish"]
)
@pytest.mark.parametrize(
    "param",
    [
        "is_active__exact",
        "region__id__exact",
        "served_on__year",
        "posted_at__year",
        "posted_at__month",
        "stale",
        "state__exact",
        "p",
        "o",
    ],
)
def test_admin_changelists_survive_malformed_filters(
    client, street_staff, party, model, param
):
    client.force_login(street_staff)
    url = reverse(f"admin:partyorg_{model}_changelist")
    for raw in ("²", "9" * 30, "9999", "0"):
        response = client.get(url, {param: raw})
        assert response.status_code in {200, 302, 404}, (param, raw)


@pytest.mark.parametrize(
    "params",
    [
        {"posted_at__year": "9999"},
        {"posted_at__year": "9999", "posted_at__month": "12"},
        {"posted_at__year": "2024", "posted_at__month": "13"},
        {"posted_at__year": "2024", "posted_at__month": "2", "posted_at__day": "²"},
    ],
)
def test_admin_date_hierarchy_out_of_range_redirects(client, street_staff, params):
    """Django's date drill-down turns these into datetime overflows (a 500); the
    admin refuses them like any bad lookup (a redirect with ?e=1)."""
    client.force_login(street_staff)
    response = client.get(reverse("admin:partyorg_wish_changelist"), params)
    assert response.status_code == 302
    assert "e=1" in response["Location"]


def test_phone_page_and_admin_take_a_wish_step_the_same_way(
    client, community_staff, party, tree
):
    """Both pages go through forms.wish_action_submit: same refusal, same success."""
    from django.contrib.messages import get_messages

    member = PartyMemberFactory(organisation=party["branches"][0])
    urls = []
    for _ in range(2):
        wish = WishFactory(
            region=tree["grids"][0], state=WishState.CLAIMED, claimed_by=member
        )
        urls.append(wish.pk)
    admin_url = reverse("admin:partyorg_wish_act", args=[urls[0]])
    phone_url = reverse("m:party:wish_detail", args=[urls[1]])
    from django.test import Client

    # One client per page, so a message left by one never shows on the other.
    clients = {admin_url: client, phone_url: Client()}
    for each in clients.values():
        each.force_login(community_staff)

    def step(url, data):
        response = clients[url].post(url, data)
        return response.status_code, [
            str(m) for m in get_messages(response.wsgi_request)
        ]

    refused = {"action": "fulfil", "note": "", "photo": ""}
    admin_status, admin_messages = step(admin_url, refused)
    phone_status, phone_messages = step(phone_url, refused)
    assert admin_status == phone_status == 200
    assert admin_messages == phone_messages != []
    assert set(Wish.objects.filter(pk__in=urls).values_list("state", flat=True)) == {
        WishState.CLAIMED
    }

    released = {"action": "release", "note": "没空"}
    admin_status, admin_messages = step(admin_url, released)
    phone_status, phone_messages = step(phone_url, released)
    assert admin_status == phone_status == 302
    assert admin_messages == phone_messages == [translation.gettext("Saved.")]
    assert set(Wish.objects.filter(pk__in=urls).values_list("state", flat=True)) == {
        WishState.POSTED
    }


def test_wish_action_submit_only_acts_on_a_valid_post(rf, community_staff, tree):
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore

    from partyorg.forms import wish_action_submit

    wish = WishFactory(region=tree["grids"][0])

    def request_for(method, data=None):
        request = getattr(rf, method)("/", data or {})
        request.user = community_staff
        request.session = SessionStore()
        request._messages = FallbackStorage(request)
        return request

    form, saved = wish_action_submit(request_for("get"), wish=wish)
    assert not saved and not form.is_bound
    assert "claim" in dict(form.fields["action"].choices)
    request = request_for("post", {"action": "withdraw", "note": "不需要了"})
    form, saved = wish_action_submit(request, wish=wish)
    assert saved
    wish.refresh_from_db()
    assert wish.state == WishState.WITHDRAWN
    assert [m.level_tag for m in request._messages] == ["success"]


@pytest.mark.parametrize(
    "model", ["partyorg", "partymember", "registration", "servicerecord", "wish"]
)
@pytest.mark.parametrize("raw", ["²", "9" * 30])
def test_admin_change_page_with_a_malformed_id(client, street_staff, model, raw):
    client.force_login(street_staff)
    url = reverse(f"admin:partyorg_{model}_changelist") + f"{raw}/change/"
    assert client.get(url).status_code in {302, 404}
