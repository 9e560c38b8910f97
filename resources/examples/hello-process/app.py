#!/usr/bin/env python3
"""A tiny HTTP app for Portico's process runtime: answers on $HOST:$PORT."""
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Hello(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"hello from a process\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        # One line per request on stderr: Portico keeps it in the project's log.
        print(f"{self.address_string()} {fmt % args}", flush=True, file=sys.stderr)


if __name__ == "__main__":
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ["PORT"])
    print(f"hello-process on {host}:{port}", flush=True)
    ThreadingHTTPServer((host, port), Hello).serve_forever()
