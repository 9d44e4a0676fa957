"""A KSeF emulator for tests and the demo: a local HTTP server that answers
the KSeF API v2 calls `ksef-client` makes, as shared/facts/ksef/open-api.json
describes them, so that nothing goes to the real Polish e-invoice system.

    from tests.ksef_emulator import Emulator
    with Emulator(nip='5273184651', tokens=['test-token']) as ksef:
        ...   # KsefClientOptions(base_url=ksef.base_url)

or ``python -m tests.ksef_emulator --port 8081 --nip 5273184651 --data DIR``.
What it implements and how tests steer it: README.md beside this file.
"""
from .app import DEFAULT_NIP, App
from .numbers import is_valid_ksef_number, ksef_number
from .server import Emulator

__all__ = ['App', 'DEFAULT_NIP', 'Emulator', 'is_valid_ksef_number',
    'ksef_number']
