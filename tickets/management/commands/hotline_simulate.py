"""Play a 12345 platform against a running server: push a day of signed tickets
(with a replay and a clash to show both answers) and listen for the callbacks
on localhost, printing each. See docs/operations.md, "Trying the 12345
integration"."""

import json
import os
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tickets.hotline.simulator import (
    CallbackServer,
    day_of_pushes,
    read_status,
    send_push,
)


class Command(BaseCommand):
    help = "Push a day of signed 12345 tickets to a running server and print the callbacks."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000")
        parser.add_argument("--platform", required=True, help="the platform's code")
        parser.add_argument(
            "--secret",
            default=os.environ.get("HOTLINE_SIMULATOR_SECRET", ""),
            help="the platform's secret (or HOTLINE_SIMULATOR_SECRET)",
        )
        parser.add_argument("--count", type=int, default=60)
        parser.add_argument("--prefix", default="SIM", help="hotline number prefix")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--listen",
            default="127.0.0.1:8765",
            help="host:port of the callback server (the platform's callback "
            "URL must point here: http://HOST:PORT/callback)",
        )
        parser.add_argument(
            "--wait",
            type=float,
            default=30,
            help="seconds to keep listening for callbacks after the pushes",
        )

    def handle(self, *args, **o):
        if not o["secret"]:
            raise CommandError("Give the platform's secret (--secret).")
        if not 0 < o["count"] <= 100_000:
            raise CommandError("--count must be between 1 and 100000.")
        host, _sep, port = o["listen"].rpartition(":")
        try:
            server = CallbackServer(
                host or "127.0.0.1",
                int(port),
                secret=o["secret"],
                on_receive=self._print_callback,
            )
        except (ValueError, OSError) as exc:
            raise CommandError(f"Cannot listen on {o['listen']}: {exc}") from None
        pushes = day_of_pushes(
            o["count"], now=timezone.now(), prefix=o["prefix"], seed=o["seed"]
        )
        with server:
            self.stdout.write(f"callbacks: listening on {server.url}")
            counts: dict[int, int] = {}
            started = time.monotonic()
            for data in pushes:
                status, answer = send_push(o["url"], o["platform"], o["secret"], data)
                counts[status] = counts.get(status, 0) + 1
                self.stdout.write(
                    f"push {data['number']}: {status} {self._short(answer)}"
                )
            elapsed = time.monotonic() - started
            # What a platform does by mistake: the first ticket again (a replay:
            # the same answer), then with another text (a clash: 409).
            first = pushes[0]
            status, answer = send_push(o["url"], o["platform"], o["secret"], first)
            self.stdout.write(
                f"replay {first['number']}: {status} {self._short(answer)}"
            )
            clash = {**first, "content": first["content"] + "（补充）"}
            status, answer = send_push(o["url"], o["platform"], o["secret"], clash)
            self.stdout.write(
                f"clash {first['number']}: {status} {self._short(answer)}"
            )
            # The platform reads the first ticket back (its stage and result).
            status, answer = read_status(
                o["url"], o["platform"], o["secret"], first["number"]
            )
            self.stdout.write(
                f"read {first['number']}: {status} "
                + (
                    f"stage={answer['stage']} final={answer['final']}"
                    if status == 200
                    else json.dumps(answer, ensure_ascii=False)[:200]
                )
            )
            self.stdout.write(
                f"pushed {len(pushes)} in {elapsed:.1f} s: "
                + ", ".join(f"{k}×{v}" for k, v in sorted(counts.items()))
            )
            self.stdout.write(
                f"listening {o['wait']:.0f} s for callbacks (move the tickets "
                "along in the admin to see them)…"
            )
            time.sleep(max(0.0, o["wait"]))
        valid = sum(1 for _h, _b, v in server.received if v)
        self.stdout.write(
            f"callbacks received: {len(server.received)} ({valid} correctly signed, "
            f"{server.duplicates} duplicates)"
        )

    def _short(self, answer) -> str:
        if isinstance(answer, dict) and "ticket_number" in answer:
            flags = ",".join(answer.get("flags") or []) or "-"
            return f"ticket {answer['ticket_number']} flags={flags}"
        return json.dumps(answer, ensure_ascii=False)[:200]

    def _print_callback(self, headers, body, valid, status):
        try:
            data = json.loads(body)
        except ValueError:
            data = {}
        event = data.get("event") or {}
        self.stdout.write(
            "callback {id} {number}: {action} → {stage}{final} signature={sig} "
            "answered {status}".format(
                id=headers.get("X-Hotline-Delivery", "?")[:8],
                number=data.get("hotline_number", "?"),
                action=event.get("action", "?"),
                stage=data.get("stage", "?"),
                final=" (final)" if data.get("final") else "",
                sig="ok" if valid else "BAD",
                status=status,
            )
        )
