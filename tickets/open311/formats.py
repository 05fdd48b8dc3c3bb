"""The spec's bodies (GeoReport v2): the fields of a service, a service
definition, a request, a token and an error, the same for JSON and XML, and the
XML writer. Only the spec's public fields are written: never the reporter's
name, phone or e-mail, nor a staff member's name.

Status: our stages before 考单 are ``open``; closed (已考单) and merged tickets
are ``closed``. ``status_notes`` says the stage in words for the public,
``agency_responsible`` names the handling unit (or the street centre holding
it), ``expected_datetime`` is the 做单 deadline while a handler has it.
"""

import re
from xml.etree import ElementTree

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.renderers import BaseRenderer, JSONRenderer

from ..choices import OPEN_STAGES, Stage

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FORMATS = ["text/xml", "application/json"]

STATUS_NOTES = {
    Stage.RECEIVED: gettext_lazy(
        "Received; the street centre checks and assigns it within one working day."
    ),
    Stage.TRIAGED: gettext_lazy(
        "Checked by the street centre; about to be sent to the unit that handles it."
    ),
    Stage.DISPATCHED: gettext_lazy("Sent to the unit that handles it."),
    Stage.ACCEPTED: gettext_lazy("Accepted: someone is going on site."),
    Stage.HANDLED: gettext_lazy("Handled; waiting for the reporter's verdict."),
    Stage.EVALUATED: gettext_lazy("Verdict recorded; waiting for the final review."),
    Stage.CLOSED: gettext_lazy("Closed."),
}


def w3(value) -> str | None:
    """A date and time as the spec writes it (ISO 8601 with the offset)."""
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


def status_of(ticket) -> str:
    return "open" if ticket.stage in OPEN_STAGES else "closed"


def status_notes(ticket) -> str:
    if ticket.stage == Stage.MERGED:
        return _("Joined with another report of the same matter (%(number)s).") % {
            "number": ticket.merged_into.display_number if ticket.merged_into else ""
        }
    return str(STATUS_NOTES.get(ticket.stage, ""))


def agency_responsible(ticket) -> str:
    unit = ticket.handling_department or ticket.handling_region or ticket.holder_region
    return unit.name if unit else ""


def service_data(category, group: str) -> dict:
    return {
        "service_code": category.service_code,
        "service_name": category.name,
        "description": str(category),
        "metadata": False,  # no attributes beyond the standard fields
        "type": "realtime",  # the ticket exists as soon as the POST returns
        "keywords": "",
        "group": group,
    }


def service_definition_data(category) -> dict:
    return {"service_code": category.service_code, "attributes": []}


def _number(value):
    return float(value) if value is not None else None


def request_data(open311_request) -> dict:
    """One request's public fields, in the spec's order."""
    ticket = open311_request.ticket
    category = ticket.category
    open_ = ticket.stage in OPEN_STAGES
    return {
        "service_request_id": ticket.display_number,
        "status": status_of(ticket),
        "status_notes": status_notes(ticket),
        "service_name": category.name if category else "",
        "service_code": category.service_code if category else "",
        "description": ticket.description,
        "agency_responsible": agency_responsible(ticket),
        "service_notice": "",
        "requested_datetime": w3(ticket.received_at),
        "updated_datetime": w3(ticket.updated_at),
        "expected_datetime": w3(ticket.stage_deadline)
        if open_ and ticket.stage == Stage.ACCEPTED
        else None,
        "address": ticket.address,
        "address_id": ticket.region.code or "",
        "zipcode": "",
        "lat": _number(ticket.latitude),
        "long": _number(ticket.longitude),
        # The client's own link (``POST media_url``), never a photo we keep.
        "media_url": getattr(open311_request, "media_url", None) or "",
    }


def created_data(open311_request) -> dict:
    return {
        "service_request_id": open311_request.ticket.display_number,
        "token": str(open311_request.token),
        "service_notice": "",
        "account_id": "",
    }


def token_data(open311_request) -> dict:
    return {
        "service_request_id": open311_request.ticket.display_number,
        "token": str(open311_request.token),
    }


def error_data(status: int, description) -> list:
    return [{"code": status, "description": str(description)}]


# --- XML -------------------------------------------------------------------------

# The element of each item of a list, by the list's element.
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}


# Characters XML 1.0 cannot carry at all (a pasted control character would make
# the whole answer unreadable to a client's parser).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element, value) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _fill(ElementTree.SubElement(element, key), child)
    elif isinstance(value, (list, tuple)):
        item_tag = ITEM_TAGS[element.tag]
        for child in value:
            _fill(ElementTree.SubElement(element, item_tag), child)
    else:
        element.text = _text(value)


def to_xml(root: str, data) -> bytes:
    """``data`` (a dict, or a list of items) under the element ``root``, with
    the XML declaration the spec asks for."""
    element = ElementTree.Element(root)
    _fill(element, data)
    body = ElementTree.tostring(element, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode()


class Open311JSONRenderer(JSONRenderer):
    media_type = "application/json"
    format = "json"
    charset = "utf-8"


class Open311XMLRenderer(BaseRenderer):
    """Writes the view's ``xml_root`` element (``errors`` for an error)."""

    media_type = "text/xml"
    format = "xml"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        context = renderer_context or {}
        response = context.get("response")
        if response is not None and response.status_code >= 400:
            root = "errors"
        else:
            root = getattr(context.get("view"), "xml_root", "response")
        return to_xml(root, data)
