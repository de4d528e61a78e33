"""A stand-in for WeChat's server APIs in benchmarks: an access token, content checks that
pass, subscribe messages accepted. Usage: python3 bench/fake-wechat.py PORT"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWERS = {
    "/cgi-bin/stable_token": {"access_token": "bench-token", "expires_in": 7200},
    "/wxa/msg_sec_check": {"errcode": 0, "errmsg": "ok", "result": {"suggest": "pass", "label": 100}},
}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps(ANSWERS.get(self.path.split("?")[0], {"errcode": 0, "errmsg": "ok"})).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
