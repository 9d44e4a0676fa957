"""A Bitrix24 emulator for tests and the demo: a local HTTP server that
answers the REST calls of the Portico bridge as a cloud portal does
(shared/facts/BITRIX24.md is the contract), so that nothing goes to a real
portal.

    from tests.bitrix24_emulator import Emulator
    with Emulator() as b24:
        ...   # b24.webhook_url, b24.oauth, b24.app.<controls>

or ``python -m tests.bitrix24_emulator --port 8082 --data DIR``.
What it implements and how tests steer it: README.md beside this file.
"""
from .app import App
from .server import Emulator

__all__ = ['App', 'Emulator']
