"""Writes of community deliberation (议事协商, seed 003): one function per use
case. Pages, the admin, the demo and the tests call these; nothing else writes a
council, a topic, a step record, a vote item or a ballot.

A topic is raised (by a resident through a grid worker, a grid worker, a party
branch, a council, or from a ticket), screened by 五议五不议 (``topic_screen``),
then each step of its path is recorded in order (``topic_step_record``): a step
is refused until the one before it is recorded. The decision step of each path
needs a counted vote (四步走: ``vote_item_open`` issues the ballots,
``ballot_cast`` casts one, ``vote_item_count`` counts against quorum and
majority and publishes the result).
"""

from .common import TOPIC_LEVELS
from .councils import (
    COUNCIL_EDITABLE_FIELDS,
    community_kind_set,
    council_create,
    council_member_add,
    council_member_remove,
    council_update,
    path_for,
)
from .topics import (
    refusal_message,
    topic_council_set,
    topic_from_ticket,
    topic_raise,
    topic_screen,
    topic_step_record,
)
from .votes import (
    VOTE_FIELD,
    ballot_cast,
    vote_item_count,
    vote_item_open,
    vote_result,
)

__all__ = [
    "COUNCIL_EDITABLE_FIELDS",
    "TOPIC_LEVELS",
    "VOTE_FIELD",
    "ballot_cast",
    "community_kind_set",
    "council_create",
    "council_member_add",
    "council_member_remove",
    "council_update",
    "path_for",
    "refusal_message",
    "topic_council_set",
    "topic_from_ticket",
    "topic_raise",
    "topic_screen",
    "topic_step_record",
    "vote_item_count",
    "vote_item_open",
    "vote_result",
]
