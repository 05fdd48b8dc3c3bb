"""The 12345 hotline platform integration (issue 13, seed 000: the district's and
towns' 12345 tickets are handled in the grid system).

- ``models``: the platforms, the staff's mapping tables, the pushes received
  (``HotlineInbound``) and the outbox of callbacks (``HotlineDelivery``).
- ``signing``: the HMAC-SHA256 scheme both directions use.
- ``mapping``: a platform's category code and area/address → our catalogue and
  Region tree.
- ``services``: receiving a push; the platform's account.
- ``outbox``: a delivery row written with every stage change of a pushed ticket,
  sending it, retrying it, the sweep.
- ``api``: the signed inbound endpoint; ``admin``: the staff's pages.

The protocol is in docs/hotline.md.
"""
