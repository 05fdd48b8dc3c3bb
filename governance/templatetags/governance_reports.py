"""``{% report_links as reports %}``: the reports the current user may open."""

from django import template

from ..reports import report_links as _report_links

register = template.Library()


@register.simple_tag(takes_context=True)
def report_links(context):
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    if user is None or not user.is_authenticated:
        return []
    return _report_links(user)
