"""A stand-in for WeChat's server APIs in benchmarks: an access token, content checks that
pass, subscribe messages accepted. Usage: python3 bench/fake-wechat.py PORT [DELAY_MS]
DELAY_MS: how long each content check takes to answer, as WeChat's own round trip."""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DELAY = int(sys.argv[2]) / 1000 if len(sys.argv) > 2 else 0

ANSWERS = {
    "/cgi-bin/stable_token": {"access_token": "bench-token", "expires_in": 7200},
    "/wxa/msg_sec_check": {"errcode": 0, "errmsg": "ok", "result": {"suggest": "pass", "label": 100}},
}


class Handler(BaseHTTPRequestHandler):
    # Keep-alive, as WeChat's HTTPS endpoint: a check is not a new connection each time;
    # without Nagle, so that the body written after the headers does not wait for an ACK.
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path.startswith("/wxa/msg_sec_check"):
            time.sleep(DELAY)
        body = json.dumps(ANSWERS.get(self.path.split("?")[0], {"errcode": 0, "errmsg": "ok"})).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    # Every connection of a loaded server is accepted at once, not retried a second later.
    request_queue_size = 1024
    daemon_threads = True


Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
