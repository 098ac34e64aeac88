"""The echo server, run as a script: ``python server.py PORT [PREFIX]``. It greets with its name and version, then
returns every line it is sent, PREFIX first."""

import socketserver
import sys

BANNER = "narrative-echo 0.1"


class EchoHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        self.wfile.write(f"{BANNER}\n".encode())
        for line in self.rfile:
            self.wfile.write(self.server.prefix + line)


def main() -> None:
    port, prefix = int(sys.argv[1]), (sys.argv[2] if len(sys.argv) > 2 else "")
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    socketserver.ThreadingTCPServer.daemon_threads = True
    with socketserver.ThreadingTCPServer(("127.0.0.1", port), EchoHandler) as server:
        server.prefix = prefix.encode()
        print(f"{BANNER} listening on 127.0.0.1:{port}", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
