"""The demo's Bitrix24: the emulator of tests/bitrix24_emulator, which
`make demo` and the browser tests start before the demo data is built. The
bridge is switched on once the demo data exists, so that what staff and
clients change from then on is mirrored into it."""
from trytond.pool import Pool

# What `python -m tests.bitrix24_emulator` accepts by default: user 1's
# inbound webhook
DEMO_HOOK = 'portico-demo-hook'
# The demo's managers and their users in the emulator's seed
MANAGERS = {'marta': 2, 'piotr': 3}
# The emulator's seeded workgroup, whose posts are the portal's news
NEWS_GROUP = '12'


def configure_demo(url):
    "Point the bridge at the emulator listening on url and switch it on"
    pool = Pool()
    Configuration = pool.get('bitrix.configuration')
    User = pool.get('res.user')
    Configuration.write([Configuration(1)], {
            'enabled': True,
            'portal_url': url,
            'authentication': 'webhook',
            'webhook_url_input': f'{url.rstrip("/")}/rest/1/{DEMO_HOOK}/',
            'news_group': NEWS_GROUP,
            })
    for user in User.search([('login', 'in', list(MANAGERS))]):
        User.write([user], {'bitrix_user_id': MANAGERS[user.login]})
