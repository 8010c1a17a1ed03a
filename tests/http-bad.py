#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Bad HTTP servers for tests/53-http.t: the files of DIR on 127.0.0.1:PORT
# (HTTP/1.1, keep-alive), misbehaving as the first path component says:
#   /norange/FILE  Range is ignored: 200 and the whole file
#   /short/FILE    ranges honoured, but each body stops halfway and the
#                  connection is closed (Content-Length says the whole range)
#   /wrong/FILE    206 for a range other than the one asked
# Usage: http-bad.py DIR PORT
import http.server
import os
import re
import sys

root, port = sys.argv[1], int(sys.argv[2])


class Bad(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        parts = self.path.split("?")[0].strip("/").split("/")
        mode, name = parts[0], os.path.basename(parts[-1])
        try:
            data = open(os.path.join(root, name), "rb").read()
        except OSError:
            self.send_error(404)
            return
        m = re.match(r"bytes=(\d+)-(\d+)", self.headers.get("Range", ""))
        a, b = (int(m.group(1)), int(m.group(2))) if m and mode != "norange" else (0, len(data) - 1)
        b = min(b, len(data) - 1)
        if mode == "wrong":
            a, b = a + 512, b + 512
        body = data[a:b + 1]
        if mode == "norange":
            self.send_response(200)
        else:
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (a, a + len(body) - 1, len(data)))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "short" and len(body) > 1:
            body = body[:len(body) // 2]
            self.close_connection = True
        try:
            self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True  # the client hung up: as it should


class Server(http.server.HTTPServer):
    def handle_error(self, request, client_address):
        pass


Server(("127.0.0.1", port), Bad).serve_forever()
