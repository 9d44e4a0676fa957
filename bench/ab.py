"""A/B of the --experiment patches, interleaved in one server process.

The shared machine's speed drifts by +-30 % from minute to minute, more than
most proposals change. So, instead of comparing separate runs, this starts
the portal in this process (as load.py does), logs one client in (500
documents), and for --rounds rounds measures each configuration in turn (the
order rotated every round): the patches are applied, every page variant is
requested once to warm, then --requests times; then the patches are undone.
For each configuration it prints the median server CPU per request (the
request thread's CPU, of which in render.render) and client latency, and the
ratio to "as is" paired within each round (median over the rounds).

    .venv/bin/python bench/ab.py                          # default configs
    .venv/bin/python bench/ab.py --config rows --config i18n,today,rows
"""
import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import load  # noqa: E402

DEFAULT = ['i18n', 'today', 'rows', 'i18n,today,rows']


def main():
    parser = argparse.ArgumentParser(description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('-d', '--database', default=common.DEFAULT_DATABASE)
    parser.add_argument('--rounds', type=int, default=6)
    parser.add_argument('--requests', type=int, default=6,
        help="measured requests per variant, configuration and round")
    parser.add_argument('--config', action='append', metavar='A,B',
        help="experiments applied together (comma-separated); repeatable; "
        f"default: {' '.join(DEFAULT)}")
    parser.add_argument('--json', metavar='FILE')
    args = parser.parse_args()
    configs = [''] + (args.config or DEFAULT)
    for config in configs:
        for name in filter(None, config.split(',')):
            if name not in load.EXPERIMENTS:
                parser.error(f'unknown experiment {name}')
    print(f'code: {load.code_version()}; load average {load.loadavg()}',
        flush=True)
    server = load.start_server(args.database, 0)
    port = server.server_port
    session = load.Client(port, args.database).login(
        common.client_email(1), common.PASSWORD)
    load.baseline(port, args.database, session, 3)     # warm the caches
    results = {c: [] for c in configs}  # per round: (cpu, render, latency)
    for round_ in range(args.rounds):
        shift = round_ % len(configs)
        for config in configs[shift:] + configs[:shift]:
            undo = load.apply_experiments(args.database,
                list(filter(None, config.split(','))))
            try:
                load.baseline(port, args.database, session, 1)
                latencies, cpu, _, render = load.baseline(
                    port, args.database, session, args.requests)
            finally:
                undo()
            variants = list(load.VARIANTS)   # the 5 variants of the page
            results[config].append((
                statistics.median(sum((cpu[v] for v in variants), [])),
                statistics.median(sum((render[v] for v in variants), [])),
                statistics.median(sum((latencies[v] for v in variants),
                        []))))
        print(f'round {round_ + 1}/{args.rounds} done (load average '
            f'{load.loadavg()})', flush=True)
    server.shutdown()

    print(f'\n{args.rounds} rounds x {args.requests} requests x '
        f'{len(load.VARIANTS)} variants per configuration (client with 500 '
        'documents); medians over the rounds')
    print(f'  {"configuration":<18} {"CPU ms":>7} {"render":>7} '
        f'{"latency":>8}   CPU vs as is (paired)')
    figures = {}
    for config in configs:
        rows = results[config]
        cpu = statistics.median(r[0] for r in rows)
        render = statistics.median(r[1] for r in rows)
        latency = statistics.median(r[2] for r in rows)
        ratios = [r[0] / a[0] for r, a in zip(rows, results[''])]
        ratio = statistics.median(ratios)
        figures[config or 'as is'] = {'cpu_ms': cpu, 'render_cpu_ms': render,
            'latency_ms': latency, 'cpu_ratio': ratio,
            'cpu_ratio_range': [min(ratios), max(ratios)]}
        print(f'  {config or "as is":<18} {cpu:7.1f} {render:7.1f} '
            f'{latency:8.1f}   {(ratio - 1) * 100:+5.0f} % '
            f'(rounds {(min(ratios) - 1) * 100:+.0f} … '
            f'{(max(ratios) - 1) * 100:+.0f} %)')
    print(f'load average at the end: {load.loadavg()}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(figures, f, indent=2)


if __name__ == '__main__':
    main()
