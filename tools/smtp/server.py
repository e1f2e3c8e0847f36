#!/usr/bin/python3
"""A real SMTP server on loopback for the alert tests (Debian's python3-aiosmtpd).

STARTTLS is required before anything else, then AUTH (PLAIN or LOGIN) as the one user given; each message is saved as
<outdir>/NNNN.eml (written whole before the 250 reply). Prints "PORT <n>" when it is listening; runs until killed.
"""
import argparse
import os
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, outdir):
        self.outdir = outdir
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            path = os.path.join(self.outdir, "%04d.eml" % self.count)
        header = "X-Envelope-From: %s\r\nX-Envelope-To: %s\r\nX-Authenticated-As: %s\r\nX-Tls: %s\r\n" % (
            envelope.mail_from, ",".join(envelope.rcpt_tos),
            session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None,
            session.ssl is not None)
        with open(path + ".tmp", "wb") as f:
            f.write(header.encode())
            f.write(envelope.original_content or envelope.content)
        os.replace(path + ".tmp", path)
        return "250 OK"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--outdir", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    args = parser.parse_args()

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == args.user.encode() and auth_data.password == args.password.encode()
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    controller = Controller(Handler(args.outdir), hostname="127.0.0.1", port=port, server_hostname="localhost",
                            tls_context=context, require_starttls=True, auth_required=True, auth_require_tls=True,
                            authenticator=authenticate)
    controller.start()
    print("PORT %d" % port, flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
