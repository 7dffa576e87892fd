"""Runs moto's server on a free loopback port for local runs and tests.

Prints the endpoint URL as its first stdout line, then serves until its standard input closes, so it never
outlives the process that started it, even when that process is killed.
Requests are recorded (moto's recorder) so tests can check what the functions sent, e.g. SMS attributes,
which moto's own SMS store does not keep.
"""

import os
import sys
import tempfile

os.environ.setdefault("MOTO_ENABLE_RECORDING", "true")
os.environ.setdefault(
    "MOTO_RECORDER_FILEPATH", os.path.join(tempfile.mkdtemp(prefix="moto-"), "recording.jsonl")
)

from moto.server import ThreadedMotoServer  # noqa: E402  (after the recorder settings above)


def main() -> None:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    print(f"http://{host}:{port}", flush=True)
    sys.stdin.read()  # returns at EOF: our parent is gone or done with us
    os._exit(0)  # the server thread would otherwise keep the interpreter alive


if __name__ == "__main__":
    main()
