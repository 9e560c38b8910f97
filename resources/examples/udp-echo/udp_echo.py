# A UDP echo server on $HOST:$PORT (given by porticod): answers each datagram with
# "echo: " and the datagram.
import os
import socket

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind((os.environ.get("HOST", "127.0.0.1"), int(os.environ["PORT"])))
print(f"udp echo on {sock.getsockname()}", flush=True)
while True:
    data, addr = sock.recvfrom(65535)
    sock.sendto(b"echo: " + data, addr)
