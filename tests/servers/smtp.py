"""A real SMTP server for the tests (aiosmtpd), on 127.0.0.1: it accepts only the
given user and password (AUTH over plain SMTP, as security "none" does), and writes
each message it receives to MAILBOX/NNNN.eml. Prints "ready" once listening; stops
when its standard input closes.

    python3 tests/servers/smtp.py MAILBOX PORT USER PASSWORD
"""
import os
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

mailbox, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]


class Mailbox:
    async def handle_DATA(self, server, session, envelope):
        n = len(os.listdir(mailbox))
        with open(os.path.join(mailbox, f"{n:04}.eml"), "wb") as f:
            f.write(envelope.original_content or envelope.content)
        return "250 OK"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login.decode() == user
        and auth_data.password.decode() == password
    )
    return AuthResult(success=ok, handled=False)


controller = Controller(
    Mailbox(),
    hostname="127.0.0.1",
    port=port,
    authenticator=authenticate,
    auth_require_tls=False,
)
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
