"""``{% idempotency_field %}``: the hidden request key of a phone form."""

import uuid

from django import template
from django.utils.html import format_html

from grids.idempotency import FIELD

register = template.Library()


@register.simple_tag
def idempotency_field():
    """A hidden ``idempotency_key`` input with a fresh UUID. A form shown again
    after an error gets a new key (nothing was recorded under the old one); the
    drafts script (m.js) keeps the key of a form that failed to send, so its
    resend carries the same one."""
    return format_html(
        '<input type="hidden" name="{}" value="{}">', FIELD, str(uuid.uuid4())
    )
