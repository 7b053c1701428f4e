#!/usr/bin/env python3
"""Lighthouse scores of the web pages, signed out and signed in, with the cover pictures loading.

This machine reaches no CDN, so the covers (https://cdn.myanimelist.net/...) would fail and a
failed load is a console error in Lighthouse's eyes. With --cdn local (the default) a stand-in
CDN answers on loopback: Chromium resolves cdn.myanimelist.net to it (--host-resolver-rules) and
accepts its self-signed certificate, and every cover is one small picture, so the pages are measured
as a fan with internet sees them. --cdn none measures them as this sandbox sees them.

    python3 e2e/lighthouse.py --anirec target/release/anirec --model target/e2e/model
    THEME=dark PAGES=/,/me python3 e2e/lighthouse.py ...   # the dark theme, two pages

Prints one line per page with the four category scores, and exits 1 when one is under --min.
The story search page is measured when the model has story embeddings (trained with the encoder).
"""

import argparse
import http.server
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import urllib.request

from browser import Server, free_port

# The picture served for every cover path: a small SVG (image/svg+xml; an <img> takes it whatever
# the path's extension).
PICTURE = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="225" height="318" viewBox="0 0 225 318">'
    b'<rect width="225" height="318" fill="#3b2a66"/><circle cx="112" cy="140" r="60" fill="#ff2e88"/></svg>'
)

CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]


class Cdn(http.server.BaseHTTPRequestHandler):
    """Answers every GET with the picture."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "image/svg+xml")
        self.send_header("Content-Length", str(len(PICTURE)))
        self.send_header("Cache-Control", "public, max-age=31536000")
        self.end_headers()
        self.wfile.write(PICTURE)

    def log_message(self, *args):
        pass


def start_cdn(workdir):
    """A TLS stand-in for the CDN on a loopback port, with a fresh self-signed certificate."""
    cert, key = os.path.join(workdir, "cdn.pem"), os.path.join(workdir, "cdn.key")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=cdn.myanimelist.net", "-keyout", key, "-out", cert],
        check=True, capture_output=True,
    )
    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Cdn)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return port


def session_cookie(base):
    """Signs a new account up, puts 100 anime on its list (the most watched, which have covers)
    and makes its profile public; its session cookie."""
    origin = {"Origin": base, "Content-Type": "application/json"}

    def call(method, path, body, cookie=None):
        headers = dict(origin, **({"Cookie": cookie} if cookie else {}))
        req = urllib.request.Request(base + path, json.dumps(body).encode(), headers, method=method)
        return urllib.request.urlopen(req, timeout=30)

    user = {"username": "lighthouse_fan", "password": "correct horse battery"}
    call("POST", "/api/v1/accounts", user)
    answer = call("POST", "/api/v1/sessions", user)
    cookie = answer.headers["Set-Cookie"].split(";")[0]
    popular = json.load(call("POST", "/api/v1/recommendations?k=100&group=none&synopsis=none", {"ratings": []}))
    for i, item in enumerate(popular["items"]):
        status = ["completed", "watching", "plan_to_watch", "on_hold", "dropped"][i % 5]
        score = 10 - i % 10 if status != "plan_to_watch" else 0
        call("PUT", f"/api/v1/me/list/{item['anime_id']}", {"score": score, "status": status}, cookie)
    call("PUT", "/api/v1/me/profile", {"public": True}, cookie)
    return cookie


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--anirec", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--lighthouse", default=shutil.which("lighthouse") or "lighthouse")
    p.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    p.add_argument("--cdn", choices=["local", "none"], default="local")
    p.add_argument("--min", type=int, default=98)
    args = p.parse_args()
    workdir = tempfile.mkdtemp(prefix="anirec-lighthouse-")
    flags = ["--headless=new", "--no-sandbox"]
    # Headless Chromium prefers the light theme; THEME=dark measures the dark one.
    if os.environ.get("THEME") == "dark":
        flags.append("--force-dark-mode")
    if args.cdn == "local":
        port = start_cdn(workdir)
        flags += [f'--host-resolver-rules="MAP cdn.myanimelist.net:443 127.0.0.1:{port}"',
                  "--ignore-certificate-errors"]
    server = Server(args.anirec, args.model)
    worst = 100
    try:
        cookie = session_cookie(server.base)
        pages = [(path, None) for path in
                 ["/", "/signin", "/signup", "/recommendations?user=0", "/anime/52991", "/anime/1"]]
        pages += [("/u/lighthouse_fan", None)]
        pages += [("/me", cookie), ("/anime/52991", cookie), ("/u/lighthouse_fan", cookie)]
        manifest = json.load(open(os.path.join(args.model, "manifest.json")))
        if manifest.get("story"):
            pages.append(("/search?q=girls%20go%20camping%20by%20a%20lake%20in%20winter", None))
        if os.environ.get("PAGES"):
            pages = [p for p in pages if p[0] in os.environ["PAGES"].split(",")]
        for path, signed_in in pages:
            out = os.path.join(workdir, "report.json")
            cmd = [args.lighthouse, server.base + path, "--output=json", f"--output-path={out}",
                   "--quiet", "--chrome-flags=" + " ".join(flags)]
            if signed_in:
                cmd.append("--extra-headers=" + json.dumps({"Cookie": signed_in}))
            subprocess.run(cmd, check=True, env=dict(os.environ, CHROME_PATH=args.chromium),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
            report = json.load(open(out))
            scores = {c: round(report["categories"][c]["score"] * 100) for c in CATEGORIES}
            worst = min(worst, *scores.values())
            failing = [k for k, a in report["audits"].items()
                       if a.get("scoreDisplayMode") == "binary" and a.get("score") == 0]
            who = "signed in " if signed_in else "signed out"
            print(f"{who} {path:28} " + " ".join(f"{c} {s}" for c, s in scores.items())
                  + (f"  (failing: {', '.join(failing)})" if failing else ""))
            for item in report["audits"]["errors-in-console"].get("details", {}).get("items", [])[:3]:
                print(f"    console: {item.get('description', '')[:160]}")
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(0 if worst >= args.min else 1)


if __name__ == "__main__":
    main()
