"""Runs moto's server on a free loopback port for local runs and tests.

Prints the endpoint URL as its first stdout line, then serves until its standard input closes, so it never
outlives the process that started it, even when that process is killed.
Requests are recorded (moto's recorder) so tests can check what the functions sent, e.g. SMS attributes,
which moto's own SMS store does not keep.

SNS's sending rate, which moto does not model, is: `POST /emulator/sms-rate {"parts_per_second": N}` makes SMS
publishes beyond N message parts per second (a token bucket holding one second's parts, as a sending number's
rate) answer `Throttling` ("Rate exceeded") as SNS does; 0 lifts the limit. `GET /emulator/sms-log` lists each
SMS publish accepted since (time, number, message, parts) and counts those throttled.
"""

import io
import json
import math
import os
import sys
import tempfile
import threading
import time
from urllib.parse import parse_qs

os.environ.setdefault("MOTO_ENABLE_RECORDING", "true")
os.environ.setdefault(
    "MOTO_RECORDER_FILEPATH", os.path.join(tempfile.mkdtemp(prefix="moto-"), "recording.jsonl")
)

from moto.moto_server.werkzeug_app import (  # noqa: E402  (after the recorder settings above)
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server  # noqa: E402

# GSM 03.38's basic set, and its extension table (two septets each).
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = "\f^{}\\[~]|€"

THROTTLED = (
    '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type>'
    "<Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
    "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
).encode()


def parts(message: str) -> int:
    """Message parts as carriers split an SMS (GSM-7: 160, 153 when split; else UCS-2: 70, 67)."""
    if all(c in GSM_BASIC or c in GSM_EXTENSION for c in message):
        septets = sum(2 if c in GSM_EXTENSION else 1 for c in message)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(message.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


class SmsRate:
    """A sending rate in message parts per second, and the log of what it let through."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset(0)

    def reset(self, parts_per_second: float) -> None:
        with self.lock:
            self.rate = parts_per_second
            self.tokens = parts_per_second
            self.refilled = time.monotonic()
            self.accepted = []
            self.throttled = 0

    def admit(self, number: str, message: str) -> bool:
        cost = parts(message)
        with self.lock:
            now = time.monotonic()
            if self.rate > 0:
                self.tokens = min(self.rate, self.tokens + (now - self.refilled) * self.rate)
                self.refilled = now
                if self.tokens < cost:
                    self.throttled += 1
                    return False
                self.tokens -= cost
            self.accepted.append({"at": time.time(), "number": number, "message": message, "parts": cost})
            return True

    def log(self) -> dict:
        with self.lock:
            return {"accepted": list(self.accepted), "throttled": self.throttled}


def with_sms_rate(app, rate: SmsRate):
    def middleware(environ, start_response):
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == "/emulator/sms-rate" and method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            rate.reset(float(json.loads(environ["wsgi.input"].read(length) or b"{}").get("parts_per_second", 0)))
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b"{}"]
        if path == "/emulator/sms-log":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps(rate.log()).encode()]
        if method == "POST" and "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            form = parse_qs(body.decode("utf-8", "replace"))
            if form.get("Action") == ["Publish"] and "PhoneNumber" in form:
                if not rate.admit(form["PhoneNumber"][0], form.get("Message", [""])[0]):
                    start_response("400 Bad Request", [("Content-Type", "text/xml")])
                    return [THROTTLED]
            environ["wsgi.input"] = io.BytesIO(body)
        return app(environ, start_response)

    return middleware


def main() -> None:
    app = with_sms_rate(DomainDispatcherApplication(create_backend_app), SmsRate())
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    print(f"http://{host}:{port}", flush=True)
    sys.stdin.read()  # returns at EOF: our parent is gone or done with us
    os._exit(0)  # the server thread would otherwise keep the interpreter alive


if __name__ == "__main__":
    main()
