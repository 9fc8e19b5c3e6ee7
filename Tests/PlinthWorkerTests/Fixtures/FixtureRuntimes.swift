/// Tiny stand-ins for a model runtime, written into the artifact cache by the tests.
enum FixtureRuntimes {
    /// An OIP v2 health + echo server on the Unix socket in $PLINTH_SOCKET.
    /// argv[1]: "serve" (default) or "hang-after-ready" (answers the first readiness probe,
    /// then accepts connections but never answers: a hung model).
    static let oipServer = #"""
        import json, os, socketserver, sys, time
        from http.server import BaseHTTPRequestHandler

        MODE = sys.argv[1] if len(sys.argv) > 1 else "serve"
        PATH = os.environ["PLINTH_SOCKET"]
        answered = [0]

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def log_message(self, *args):
                pass
            def reply(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            def do_GET(self):
                if MODE == "hang-after-ready" and answered[0] >= 1:
                    time.sleep(3600)
                answered[0] += 1
                if self.path in ("/v2/health/ready", "/v2/health/live"):
                    self.reply(200, {"ready": True})
                else:
                    self.reply(404, {"error": "not found"})
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                self.reply(200, json.loads(self.rfile.read(length) or b"{}"))

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

        if os.path.exists(PATH):
            os.unlink(PATH)
        server = Server(PATH, Handler)
        print("fixture listening on", PATH, "mode", MODE, flush=True)
        server.serve_forever()
        """#
}
