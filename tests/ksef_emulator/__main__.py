"""python -m tests.ksef_emulator [--host H] [--port N] [--nip NIP]
    [--token TOKEN[=NIP,NIP...]]... [--context-nip NIP]... [--data DIR]
    [--seed-dir DIR | --no-seed] [--rate-limit SPEC] [--processing-delay S]
    [--port-file FILE] [--quiet]

Prints the base URL once it listens (port 0 picks a free one).
"""
import argparse
import sys

from . import ratelimit
from .app import DEFAULT_NIP, data_directory
from .server import Emulator

DEMO_TOKEN = 'portico-demo-token'


def _tokens(values):
    "--token T or --token T=NIP,NIP: {token: [nips] or None}"
    tokens = {}
    for value in values or [DEMO_TOKEN]:
        token, _, nips = value.partition('=')
        tokens[token] = [n.strip() for n in nips.split(',') if n.strip()] \
            or None
    return tokens


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m tests.ksef_emulator',
        description='KSeF API v2 emulator for tests and the demo')
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=0)
    parser.add_argument('--nip', default=DEFAULT_NIP,
        help="the firm's NIP: the default context, buyer of the seed")
    parser.add_argument('--token', action='append', metavar='TOKEN[=NIPS]',
        help=f'a KSeF token it accepts (repeatable; default {DEMO_TOKEN}), '
        'optionally limited to some context NIPs')
    parser.add_argument('--context-nip', action='append', default=[],
        metavar='NIP', help='another context the tokens open (repeatable)')
    parser.add_argument('--data', metavar='DIR',
        help='keep keys and state (state.json) in DIR across restarts')
    parser.add_argument('--seed-dir', metavar='DIR',
        help='seed with the *.xml invoices of DIR instead of the built-in')
    parser.add_argument('--no-seed', action='store_true')
    parser.add_argument('--rate-limit', type=ratelimit.parse, metavar='SPEC',
        help="e.g. 'invoiceSend=2/s,onlineSession=30/min', or 'ksef'")
    parser.add_argument('--processing-delay', type=float, default=0.0,
        metavar='S', help='seconds before an invoice status is final')
    parser.add_argument('--port-file', metavar='FILE',
        help='write the port there once listening')
    parser.add_argument('--quiet', action='store_true',
        help='no request log')
    args = parser.parse_args(argv)

    emulator = Emulator(args.nip, _tokens(args.token), host=args.host,
        port=args.port, verbose=not args.quiet, nips=args.context_nip,
        data_dir=data_directory(args.data) if args.data else None,
        seed=not args.no_seed, seed_dir=args.seed_dir,
        rate_limits=args.rate_limit, processing_delay=args.processing_delay)

    def banner(base_url):
        return (f'KSeF emulator on {base_url} (API {base_url}/v2, controls '
            f'{base_url}/_control), NIP {args.nip}, tokens: '
            f'{", ".join(emulator.app.tokens)}')
    emulator.run(banner, args.port_file)
    return 0

if __name__ == '__main__':
    sys.exit(main())
