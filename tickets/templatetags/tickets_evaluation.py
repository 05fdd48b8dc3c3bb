"""Template tags of the ticket page: the evaluation link panel reads its own
context, so that any page showing a ticket can include the panel."""

from django import template

from .. import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def evaluation_link_context(context, ticket=None):
    """``{% evaluation_link_context as link %}``: see
    ``tickets.selectors.evaluation_link_context``; {} without a request or ticket."""
    request = context.get("request")
    ticket = ticket or context.get("ticket")
    if request is None or ticket is None:
        return {}
    return selectors.evaluation_link_context(request, ticket)
