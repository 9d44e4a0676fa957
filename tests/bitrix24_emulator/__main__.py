"""python -m tests.bitrix24_emulator [--host H] [--port N] [--data DIR]
    [--webhook-code CODE] [--require-https] [--drain Y] [--threshold X]
    [--operating-limit S] [--port-file FILE] [--quiet]

Prints the portal's address, the webhook URL and the application's
credentials once it listens (port 0 picks a free one).
"""
import argparse
import os
import sys

from .portal import DEFAULT_WEBHOOK_CODE
from .server import Emulator


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m tests.bitrix24_emulator',
        description='Bitrix24 REST emulator for tests and the demo')
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=0)
    parser.add_argument('--data', metavar='DIR',
        help='keep the portal (state.json) in DIR across restarts')
    parser.add_argument('--webhook-code', default=DEFAULT_WEBHOOK_CODE)
    parser.add_argument('--require-https', action='store_true',
        help='plain http gets 400 INVALID_REQUEST (behind a TLS proxy)')
    parser.add_argument('--drain', type=float, default=2.0,
        help='leaky bucket: requests drained per second')
    parser.add_argument('--threshold', type=int, default=50,
        help='leaky bucket: requests allowed in the bucket')
    parser.add_argument('--operating-limit', type=float, default=480.0,
        help='seconds of operating time per method per 10 minutes')
    parser.add_argument('--port-file', metavar='FILE',
        help='write the port there once listening')
    parser.add_argument('--quiet', action='store_true',
        help='no request log')
    args = parser.parse_args(argv)
    data_dir = None
    if args.data:
        data_dir = os.path.abspath(args.data)
        os.makedirs(data_dir, exist_ok=True)

    emulator = Emulator(host=args.host, port=args.port,
        verbose=not args.quiet, data_dir=data_dir,
        webhook_code=args.webhook_code, require_https=args.require_https,
        drain=args.drain, threshold=args.threshold,
        operating_limit=args.operating_limit)

    def banner(base_url):
        oauth = emulator.oauth
        return (f'Bitrix24 emulator on {base_url} (webhook '
            f'{emulator.webhook_url}, controls {base_url}/_control/, '
            f'client_id {oauth["client_id"]}, member_id '
            f'{oauth["member_id"]})')
    emulator.run(banner, args.port_file)
    return 0

if __name__ == '__main__':
    sys.exit(main())
