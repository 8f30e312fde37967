"""A real SMTP server (aiosmtpd) on a loopback port, for the alert tests.

Prints {"port": N} once listening, then one JSON line per message received:
envelope, headers as a standard parser reads them, the raw header block,
the decoded body and the authenticated login. Stops when stdin closes.

Options: --tls CERT KEY (offer STARTTLS and require it), --auth USER
(AUTH PLAIN/LOGIN required; the password is read from the first stdin line).
"""

import asyncio
import email
import json
import ssl
import sys
import warnings
from email import policy

from aiosmtpd.smtp import SMTP, AuthResult


class Handler:
    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=policy.default)
        head = raw.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
        login = getattr(session.auth_data, "login", None)
        login = login.decode() if isinstance(login, bytes) else login
        print(
            json.dumps(
                {
                    "mail_from": envelope.mail_from,
                    "rcpt_tos": envelope.rcpt_tos,
                    "headers": [[k, str(v)] for k, v in msg.items()],
                    "raw_head": head,
                    "body": msg.get_content(),
                    "login": login,
                    "tls": session.ssl is not None,
                }
            ),
            flush=True,
        )
        return "250 OK"


def main():
    # AUTH without TLS is what the plain-text test wants; say nothing.
    warnings.simplefilter("ignore")
    args = sys.argv[1:]
    tls = None
    user = None
    password = None
    while args:
        opt = args.pop(0)
        if opt == "--tls":
            tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.load_cert_chain(args.pop(0), args.pop(0))
        elif opt == "--auth":
            user = args.pop(0).encode()
            password = sys.stdin.readline().rstrip("\n").encode()
        else:
            raise SystemExit(f"unknown option {opt}")

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == user and auth_data.password == password
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    def factory():
        kwargs = {"hostname": "smtp.test"}
        if tls is not None:
            kwargs.update(tls_context=tls, require_starttls=True)
        if user is not None:
            kwargs.update(authenticator=authenticator, auth_required=True)
            if tls is None:
                kwargs.update(auth_require_tls=False)
        return SMTP(Handler(), **kwargs)

    async def serve():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(factory, "127.0.0.1", 0)
        print(json.dumps({"port": server.sockets[0].getsockname()[1]}), flush=True)
        await loop.run_in_executor(None, sys.stdin.read)
        server.close()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
