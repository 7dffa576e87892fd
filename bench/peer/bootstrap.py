"""The Lambda runtime loop for the Python peer, as the managed Python runtime runs it: import the handler module
(the init phase), then ask the Runtime API for an event, call the handler, post its result, forever.
Usage: python bootstrap.py <module>   (with AWS_LAMBDA_RUNTIME_API set)"""

import importlib
import json
import os
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
handler = importlib.import_module(sys.argv[1]).handler

while True:
    with urllib.request.urlopen(API + "/invocation/next") as response:
        request_id = response.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(response.read())
    try:
        outcome, payload = "response", handler(event, None)
    except Exception as error:  # noqa: BLE001 - reported to the Runtime API, as the managed runtime does
        outcome, payload = "error", {"errorMessage": str(error), "errorType": type(error).__name__}
    request = urllib.request.Request(
        f"{API}/invocation/{request_id}/{outcome}", data=json.dumps(payload).encode(), method="POST"
    )
    urllib.request.urlopen(request).read()
