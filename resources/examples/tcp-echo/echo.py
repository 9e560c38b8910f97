#!/usr/bin/env python3
"""A raw TCP echo server for Portico's process runtime: listens on $HOST:$PORT."""
import os
import socketserver


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(65536)
            if not data:
                return
            self.request.sendall(data)


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ["PORT"])
    with Server((host, port), Echo) as server:
        print(f"tcp echo on {host}:{port}", flush=True)
        server.serve_forever()
