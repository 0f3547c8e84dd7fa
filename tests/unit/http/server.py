#!/usr/bin/env python3
"""Loopback HTTP server for the http module's tests. Prints its port on the
first line of stdout, then serves until stdin closes (so it dies with the
test process)."""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body, ctype="application/json", headers=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        path = self.path
        if path.startswith("/echo"):
            self.reply(200, json.dumps({
                "method": self.command, "path": path, "body": body,
                "content_type": self.headers.get("Content-Type"),
                "authorization": self.headers.get("Authorization"),
                "user_agent": self.headers.get("User-Agent"),
                # tells the tests which TCP connection carried the request
                "peer_port": self.client_address[1]}))
        elif path.startswith("/status/"):
            code = int(path.split("/")[2])
            self.reply(code, json.dumps({"kind": "Status", "code": code, "message": "status %d" % code}))
        elif path == "/retry":
            self.reply(429, "Too many requests, please try again later.\n", "text/plain", [("Retry-After", "3")])
        elif path.startswith("/big/"):
            n = int(path.split("/")[2])
            self.reply(200, "x" * n, "text/plain")
        elif path.startswith("/slow"):
            time.sleep(2)
            self.reply(200, "{}")
        elif path.startswith("/stream/"):
            n = int(path.split("/")[2])
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(n):
                line = json.dumps({"type": "ADDED", "object": {"n": i}}) + "\n"
                self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line.encode()))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/forever":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                while True:
                    line = b'{"type":"BOOKMARK"}\n'
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                    self.wfile.flush()
                    time.sleep(0.05)
            except (BrokenPipeError, ConnectionResetError):
                return
        else:
            self.reply(404, json.dumps({"message": "no such path"}))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    print(srv.server_address[1], flush=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    sys.stdin.read()


if __name__ == "__main__":
    main()
