"""Where a household sits in its building, read from its address.

The household file keeps one free-text address ("幸福路3号楼2单元502室"), not
separate unit and floor fields. The building view (电子装户图, seed 002) draws a
building as floors × units, so it reads them from the address: ``N单元`` is the
unit (a building without units is unit 1), and the room number's last two digits
are the door, the digits before them the floor ("502" → floor 5, door 02;
"1201" → floor 12, door 01). An address that names no room number is listed
beside the drawing, not guessed into it.
"""

import re
from dataclasses import dataclass

# The last room number of the address, with an optional "N单元" (or "N-") before
# it and an optional 室/号 after it: "2单元502室", "2-502", "502室".
_ROOM = re.compile(
    r"(?:(?P<unit>\d{1,2})\s*(?:单元|-)\s*)?(?P<room>\d{3,4})\s*(?:室|号)?\s*$"
)


@dataclass(frozen=True, order=True)
class RoomPlace:
    """A household's unit, floor and door in its building."""

    unit: int
    floor: int
    door: int

    @property
    def room(self) -> str:
        """The room number as residents say it: floor then two-digit door."""
        return f"{self.floor}{self.door:02d}"


def room_place(address: str) -> RoomPlace | None:
    """The unit, floor and door of ``address``, or None if it names no room."""
    match = _ROOM.search((address or "").strip())
    if match is None:
        return None
    room = match["room"]
    floor, door = int(room[:-2]), int(room[-2:])
    if floor == 0:
        return None
    return RoomPlace(unit=int(match["unit"] or 1), floor=floor, door=door)


def room_search_text(text: str) -> str:
    """What a worker types to find a room ("3单元502", "3-502", "502") as the
    text to look for in addresses: "3单元502" for a unit and room, else the room."""
    text = re.sub(r"\s+", "", text or "")
    match = re.fullmatch(r"(?:(\d{1,2})(?:单元|-))?(\d{3,4})室?", text)
    if match is None:
        return text
    unit, room = match.groups()
    return f"{unit}单元{room}" if unit else room
