"""Local SMTP catcher for the demo and the tests.

Tryton sends mail through `[email] uri`; pointing it at a MailSink keeps every
message on this machine, where tests read it (`wait_for`) and the demo writes it
to a maildir-like folder of .eml files.

    with MailSink() as sink:            # free port, see sink.port
        ...                             # trigger a mail
        msg = sink.wait_for(lambda m: 'Reset' in m['Subject'])

    python scripts/mailsink.py --port 1025 --maildir var/mail
"""
import argparse
import email
import email.policy
import itertools
import os
import signal
import socket
import sys
import threading
import time
from datetime import datetime, timezone

from aiosmtpd.controller import Controller

__all__ = ['MailSink']


class _Controller(Controller):
    """Controller serving on a socket bound by the caller.

    aiosmtpd 1.4 binds in its own thread, so a busy port surfaces only after
    its 5 s ready timeout, and with port 0 it would then dial port 0 to check
    the server answers. Binding first fails at once and gives the real port.
    """

    def __init__(self, handler, sock, **kwargs):
        self._sock = sock
        host, port = sock.getsockname()[:2]
        super().__init__(handler, hostname=host, port=port, **kwargs)

    def _create_server(self):
        return self.loop.create_server(
            self._factory_invoker, sock=self._sock, ssl=self.ssl_context)


class MailSink:

    def __init__(self, host='127.0.0.1', port=0, maildir=None):
        self.host = host
        self.port = port
        self.maildir = maildir
        self._messages = []
        self._condition = threading.Condition()
        self._counter = itertools.count(1)
        self._controller = None

    # aiosmtpd handler hook, called in the controller's thread
    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(
            envelope.original_content or envelope.content,
            policy=email.policy.default)
        n = next(self._counter)
        if self.maildir:
            stamp = datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S.%fZ')
            path = os.path.join(self.maildir, f'{stamp}-{n}.eml')
            # write then rename, so a reader never sees half a message
            with open(path + '.part', 'wb') as file:
                file.write(envelope.original_content or envelope.content)
            os.replace(path + '.part', path)
        with self._condition:
            self._messages.append(message)
            self._condition.notify_all()
        return '250 Message accepted for delivery'

    def start(self):
        if self.maildir:
            os.makedirs(self.maildir, exist_ok=True)
        # decode_data=False keeps the raw bytes, so 8-bit bodies are stored
        # as sent and parsed by the email package, not by aiosmtpd.
        family = socket.AF_INET6 if ':' in self.host else socket.AF_INET
        sock = socket.create_server((self.host, self.port), family=family)
        self._controller = _Controller(self, sock, decode_data=False)
        try:
            self._controller.start()
        except BaseException:
            sock.close()
            self._controller = None
            raise
        self.port = self._controller.port
        return self

    def stop(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def messages(self):
        "A snapshot of the messages received so far, oldest first"
        with self._condition:
            return list(self._messages)

    def clear(self):
        with self._condition:
            self._messages.clear()

    def wait_for(self, predicate, timeout=10):
        "Return the first message matching predicate, waiting up to timeout s"
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                for message in self._messages:
                    if predicate(message):
                        return message
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    subjects = [m['Subject'] for m in self._messages]
                    raise AssertionError(
                        f'no matching message within {timeout} s; '
                        f'received subjects: {subjects!r}')
                self._condition.wait(remaining)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=1025)
    parser.add_argument('--maildir', help="write each message as an .eml file")
    args = parser.parse_args(argv)

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        sink = MailSink(args.host, args.port, args.maildir).start()
    except OSError as exception:      # most likely: port already in use
        print(f'mailsink: cannot listen on {args.host}:{args.port}: '
            f'{exception}', file=sys.stderr)
        return 1
    where = (os.path.abspath(args.maildir) if args.maildir
        else 'nowhere (no --maildir)')
    print(f'mailsink: SMTP on {args.host}:{sink.port}, mails go to {where}',
        flush=True)
    try:
        stop.wait()
    finally:
        sink.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
