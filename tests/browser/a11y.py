"""Accessibility checks for the browser tests.

* ``axe``: axe-core (pinned in package.json, copied by ``make install`` to
  var/test-assets/axe.min.js, outside the portal's static files) run on the
  page as it is; a serious or critical violation is a failure.
* what axe cannot see: the first Tab stop, where the skip link lands, a
  visible focus, keyboard-only use, errors tied to their fields, tables
  with a caption and column headers.
"""
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / 'var' / 'test-assets' / 'axe.min.js'
FAILING = ('serious', 'critical')

_axe_source = None


def axe_source():
    global _axe_source
    if _axe_source is None:
        if not AXE.is_file():
            raise FileNotFoundError(
                f'{AXE} is missing: run `make install` (axe-core is a '
                'devDependency in package.json)')
        _axe_source = AXE.read_text()
    return _axe_source


def axe(page):
    """Every axe violation of the page: {id, impact, help, targets}.

    The portal's Content-Security-Policy allows no inline script, so
    page.add_script_tag(content=...) is refused. page.evaluate runs
    through the DevTools protocol, which CSP does not govern: axe is
    injected that way and the page keeps its real CSP (no bypass_csp,
    which would also let through inline styles the portal's CSP blocks)."""
    if not page.evaluate('typeof window.axe === "object"'):
        page.evaluate(axe_source() + '\n;0')
    return page.evaluate('''async () => {
        // The PDF preview frame holds Chromium's viewer, not the portal
        const result = await axe.run(document, {
            resultTypes: ['violations'], iframes: false});
        return result.violations.map(v => ({id: v.id, impact: v.impact,
            help: v.help,
            targets: v.nodes.map(n => n.target.join(' '))}));
    }''')


def describe(violation, url, language, width):
    targets = violation['targets']
    shown = ', '.join(targets[:6]) + (
        f' (+{len(targets) - 6} more)' if len(targets) > 6 else '')
    return (f"{violation['id']} [{violation['impact']}] {violation['help']}"
        f" | {shown} | {url} | {language} | {width} px")


def failures(page, urls, language='en', width=1280):
    "The failing axe violations of each page, described"
    found = []
    for url in urls:
        page.goto(url)
        found += [describe(v, page.url, language, width)
            for v in axe(page) if v['impact'] in FAILING]
    return found


def tables(page):
    """Tables without a caption or without column headers"""
    return page.evaluate('''() => [...document.querySelectorAll('table')]
        .map((t, i) => ({
            table: t.className || `table ${i + 1}`,
            caption: (t.caption && t.caption.textContent.trim()) || '',
            headers: t.querySelectorAll('thead th[scope=col]').length,
            cells: t.tHead ? t.tHead.rows[0].cells.length : 0}))
        .filter(t => !t.caption || !t.headers || t.headers < t.cells)''')


def skip_link_problems(page):
    """From a fresh page: the first Tab stop is the skip link, shown when
    focused, and Enter moves the focus to <main>"""
    page.evaluate('document.activeElement && document.activeElement.blur()')
    page.keyboard.press('Tab')
    first = page.evaluate('''() => {
        const e = document.activeElement, box = e.getBoundingClientRect();
        return {href: e.getAttribute('href'), text: e.textContent.trim(),
            width: box.width, height: box.height};
    }''')
    problems = []
    if first['href'] != '#main':
        return [f'first Tab stop is {first}, not the skip link']
    if first['width'] < 10 or first['height'] < 10 or not first['text']:
        problems.append(f'skip link not shown when focused: {first}')
    if not focus_ring(page):
        problems.append('skip link: no visible focus')
    page.keyboard.press('Enter')
    if page.evaluate('document.activeElement.id') != 'main':
        problems.append('skip link: the focus did not move to <main>')
    return problems


def focus_ring(page):
    """Whether the focused element shows focus: :focus-visible matches and
    an outline or a box-shadow is drawn"""
    return page.evaluate('''() => {
        const e = document.activeElement;
        if (!e || e === document.body || !e.matches(':focus-visible'))
            return false;
        const s = getComputedStyle(e);
        return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)
            || s.boxShadow !== 'none';
    }''')


def active(page):
    "A short description of the focused element"
    return page.evaluate('''() => {
        const e = document.activeElement;
        return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
            + (e.getAttribute('href') ? `[href="${e.getAttribute('href')}"]`
                : '')
            + (e.type ? `[type=${e.type}]` : '');
    }''')


def tab_to(page, selector, limit=80, key='Tab'):
    """Press Tab until the focused element matches selector; the number of
    presses. Fails when it is never reached: not reachable by keyboard."""
    for presses in range(1, limit + 1):
        page.keyboard.press(key)
        if page.evaluate('s => document.activeElement.matches(s)',
                selector):
            return presses
    raise AssertionError(f'{selector} not reached with {limit} x {key} '
        f'(focus on {active(page)})')


def field_error(page, field):
    """How an invalid field announces its error: aria-invalid, and the
    visible texts of the elements aria-describedby names"""
    return page.evaluate('''f => {
        const e = document.getElementById(f);
        const ids = (e.getAttribute('aria-describedby') || '').split(/\\s+/)
            .filter(Boolean);
        return {invalid: e.getAttribute('aria-invalid'),
            messages: ids.map(i => {
                const m = document.getElementById(i);
                return m && m.offsetParent !== null ? m.innerText.trim() : null;
            })};
    }''', field)


def dump(path, rows):
    path.write_text(json.dumps(rows, indent=1, ensure_ascii=False))
