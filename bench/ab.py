"""A/B of the documents page, interleaved in one server process.

The shared machine's speed drifts by +-30 % from minute to minute, more than
most changes. So, instead of comparing separate runs, this starts the portal
in this process (as load.py does), logs one client in (500 documents; the
client the load does not use, client200, whose web user's language is set
to English for the run and set back at the end), and for --rounds rounds measures each configuration in
turn (the order rotated every round): the configuration's patches are
applied (load.py --experiment), every documents variant is requested once
to warm, then --requests times; then the patches are undone. For each
configuration it prints the median server CPU per request (the request
thread's CPU, of which in client_portal.web.render.render) and the client
latency, and the ratio to the first configuration, paired within each
round (median over the rounds).

The default is the template engine's before/after:
  jinja2   the code as it is
  genshi   the documents page (documents.html, documents_results.html)
           rendered with the Genshi templates of commit ba5505f and that
           commit's loader (load.py --experiment genshi); the handler, the
           session and the other code are the same

Before measuring, both configurations' pages are checked to list the same
documents in the same order, in English.

    .venv/bin/python bench/ab.py                          # jinja2 vs genshi
    .venv/bin/python bench/ab.py --rounds 30 --requests 2
    .venv/bin/python bench/ab.py --config gc              # as is vs gc
"""
import argparse
import json
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import load  # noqa: E402

DEFAULT = ['genshi']
LANGUAGE = 'en'     # ba5505f's gettext looks nothing up in English
CLIENT = 200        # not one of the load's 20 sessions
NUMBERS = re.compile(rb'>\s*(FV/\d+/\d+)\s*<')


def label(config):
    return config or 'jinja2 (as is)'


def check_pages(port, database, session, configs):
    """The first page of every variant under each configuration: the same
    document numbers in the same order, lang="en", no error"""
    client = session.client(port, database, LANGUAGE)
    pages = {}
    for config in configs:
        undo = load.apply_experiments(database,
            list(filter(None, config.split(','))))
        try:
            for kind in load.VARIANTS:
                response, data = client.get(kind)
                if not load.page_ok(kind, response, data):
                    sys.exit(f'{label(config)} {kind}: HTTP '
                        f'{response.status} {data[:500]!r}')
                if b'lang="en"' not in data[:2000]:
                    sys.exit(f'{label(config)} {kind}: the page is not in '
                        'English (lang="en" not found): the A/B compares '
                        'English pages')
                pages[(config, kind)] = (NUMBERS.findall(data), len(data))
        finally:
            undo()
    for kind in load.VARIANTS:
        reference, _ = pages[(configs[0], kind)]
        for config in configs[1:]:
            numbers, _ = pages[(config, kind)]
            if numbers != reference:
                sys.exit(f'{kind}: {label(config)} lists other documents '
                    f'than {label(configs[0])}: {numbers[:5]} … vs '
                    f'{reference[:5]} …')
    if load.GENSHI_NOT_ENGLISH[0]:
        sys.exit('genshi: strings were asked for in another language')
    print('pages checked: ' + ', '.join(
            f'{label(c)} {pages[(c, "first")][1] / 1024:.0f} kB'
            for c in configs)
        + f' (page "first"), the same {len(reference)} numbers in every '
        'variant, English', flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('-d', '--database', default=common.DEFAULT_DATABASE)
    parser.add_argument('--rounds', type=int, default=10)
    parser.add_argument('--requests', type=int, default=4,
        help="measured requests per variant, configuration and round")
    parser.add_argument('--config', action='append', metavar='A,B',
        help="experiments applied together (comma-separated), compared "
        f"with the code as it is; repeatable; default: {' '.join(DEFAULT)}")
    parser.add_argument('--json', metavar='FILE')
    args = parser.parse_args()
    configs = [''] + (args.config or DEFAULT)
    for config in configs:
        for name in filter(None, config.split(',')):
            if name not in load.EXPERIMENTS:
                parser.error(f'unknown experiment {name}')
    print(f'code: {load.code_version()}; load average {load.loadavg()}',
        flush=True)
    email = common.client_email(CLIENT)
    saved = set_language(args.database, email, LANGUAGE)
    try:
        results, variants = measure(args, configs, email)
    finally:
        set_language(args.database, email, saved)
    report(args, configs, results, variants)


def set_language(database, email, language):
    "The web user's language (web_user.language); returns the former one"
    import psycopg
    with psycopg.connect(common.pg_dsn(database), autocommit=True) as conn:
        former, = conn.execute('SELECT language FROM web_user '
            'WHERE email = %s', (email,)).fetchone()
        conn.execute('UPDATE web_user SET language = %s WHERE email = %s',
            (language, email))
    return former


def measure(args, configs, email):
    server = load.start_server(args.database, 0)
    port = server.server_port
    documents = load.session_documents(args.database, [email])[email]
    session = load.Session(email, load.Client(port, args.database).login(
            email, common.PASSWORD), documents)
    check_pages(port, args.database, session, configs)
    variants = list(load.VARIANTS)   # the 5 variants of the documents page
    load.baseline(port, args.database, session, 3, variants,
        language=LANGUAGE)     # warm the caches
    results = {c: [] for c in configs}  # per round: (cpu, render, latency)
    for round_ in range(args.rounds):
        shift = round_ % len(configs)
        for config in configs[shift:] + configs[:shift]:
            undo = load.apply_experiments(args.database,
                list(filter(None, config.split(','))))
            try:
                load.baseline(port, args.database, session, 1, variants,
                    language=LANGUAGE)
                latencies, cpu, _, render, _ = load.baseline(
                    port, args.database, session, args.requests, variants,
                    language=LANGUAGE)
            finally:
                undo()
            results[config].append((
                statistics.median(sum((cpu[v] for v in variants), [])),
                statistics.median(sum((render[v] for v in variants), [])),
                statistics.median(sum((latencies[v] for v in variants),
                        []))))
        print(f'round {round_ + 1}/{args.rounds} done (load average '
            f'{load.loadavg()})', flush=True)
    server.shutdown()
    return results, variants


def report(args, configs, results, variants):

    print(f'\nDocuments page, {args.rounds} rounds x {args.requests} '
        f'requests x {len(variants)} variants per configuration (client '
        'with 500 documents, English); medians over the rounds')
    print(f'  {"configuration":<18} {"CPU ms":>7} {"render":>7} '
        f'{"latency":>8}   CPU / {label(configs[0])} (paired)')
    figures = {}
    for config in configs:
        rows = results[config]
        cpu = statistics.median(r[0] for r in rows)
        render = statistics.median(r[1] for r in rows)
        latency = statistics.median(r[2] for r in rows)
        ratios = [r[0] / a[0] for r, a in zip(rows, results[''])]
        ratio = statistics.median(ratios)
        figures[label(config)] = {'cpu_ms': cpu, 'render_cpu_ms': render,
            'latency_ms': latency, 'cpu_ratio': ratio,
            'cpu_ratio_range': [min(ratios), max(ratios)]}
        print(f'  {label(config):<18} {cpu:7.1f} {render:7.1f} '
            f'{latency:8.1f}   x{ratio:.2f} '
            f'(rounds x{min(ratios):.2f} … x{max(ratios):.2f})')
    if 'genshi' in configs:
        genshi = figures['genshi']
        jinja2 = figures[label('')]
        print(f'\ngenshi / jinja2: server CPU per documents page '
            f'{genshi["cpu_ms"]:.1f} / {jinja2["cpu_ms"]:.1f} ms = '
            f'x{genshi["cpu_ms"] / jinja2["cpu_ms"]:.2f} (ratio of the '
            f'medians), x{genshi["cpu_ratio"]:.2f} (median of the paired '
            f'rounds); render '
            f'{genshi["render_cpu_ms"]:.1f} / {jinja2["render_cpu_ms"]:.1f}'
            f' ms')
    print(f'load average at the end: {load.loadavg()}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(figures, f, indent=2)


if __name__ == '__main__':
    main()
