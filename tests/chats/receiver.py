"""A real webhook receiver for tests: an http.server on 127.0.0.1 in a thread, verifying
Keyward-Signature the way the README tells receivers to."""

import hashlib
import hmac
import http.server
import json
import threading
import time


def verify(secret, header, body, *, now=None, tolerance=300):
    """The README's receiver check: HMAC-SHA256 over "<t>.<body>", and a fresh timestamp."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False  # stale: a replay
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, fields.get("v1", ""))


class Receiver:
    """Answers each POST with the next scripted reply: a status code, or "hang" (slower than
    the sender's timeout); 200 once the script runs out. Keeps what it received."""

    def __init__(self, script=(), *, host="127.0.0.1", port=0):
        self.script = list(script)
        self.received = []  # (headers, body bytes)
        self.hang_seconds = 2.0
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append((dict(self.headers), body))
                reply = receiver.script.pop(0) if receiver.script else 200
                if reply == "hang":
                    time.sleep(receiver.hang_seconds)
                    reply = 200
                try:
                    self.send_response(reply)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender gave up waiting

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_port
        self.url = f"http://{host}:{self.port}/hooks/keyward"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def events(self):
        return [json.loads(body) for _headers, body in self.received]

    def verified(self, secret, **kwargs):
        """Whether every request received carries a valid signature."""
        return all(
            verify(secret, headers.get("Keyward-Signature", ""), body, **kwargs)
            for headers, body in self.received
        )
