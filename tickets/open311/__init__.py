"""Open311 GeoReport v2 at ``/open311/v2/``: the civic apps' door into the ticket
lifecycle (docs/open311.md).

``models`` the client keys and the public requests, ``services`` the writes (a
key issued or revoked, a request posted as a resident's self-report),
``selectors`` the public reads, ``formats`` the spec's JSON and XML bodies,
``views`` and ``urls`` the endpoints. Imported by the tickets app only.
"""
