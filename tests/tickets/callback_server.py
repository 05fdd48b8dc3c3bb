"""The platform's callback server on localhost for the tests: the simulator's
own (``tickets.hotline.simulator.CallbackServer``)."""

from tickets.hotline.simulator import CallbackServer


def callback_server(secret=None) -> CallbackServer:
    return CallbackServer(secret=secret)
