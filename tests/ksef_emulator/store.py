"""What the emulator holds: invoices, sessions, authentication.

In memory, behind one lock. Invoices, sessions and the invoices' statuses in
their sessions are what KSeF keeps; with a data directory they are written to
``state.json`` after every change (atomically), so a demo restarted keeps
what it sent and received. Authentication (challenges, operations, bearer
tokens) lives only in memory, as a client simply authenticates again.

Records are JSON-ready dicts; their dates are ISO strings (dates.api).
"""
import json
import os
import threading

STATE_FILE = 'state.json'
PERSISTENT = ('invoices', 'sessions', 'submissions')


class Store:

    def __init__(self, directory=None):
        self.lock = threading.RLock()
        self.directory = directory
        # KSeF number -> invoice KSeF holds (sent here or seeded)
        self.invoices = {}
        # session reference number -> online session
        self.sessions = {}
        # invoice reference number -> an invoice's sending in a session
        self.submissions = {}
        self.challenges = {}
        self.operations = {}    # authentication reference number -> operation
        self.tokens = {}        # bearer token -> what it stands for

    @property
    def path(self):
        if self.directory:
            return os.path.join(self.directory, STATE_FILE)

    def load(self):
        "Whether a saved state was there"
        if not self.path or not os.path.exists(self.path):
            return False
        with open(self.path, encoding='utf-8') as f:
            state = json.load(f)
        with self.lock:
            for name in PERSISTENT:
                setattr(self, name, state.get(name, {}))
        return True

    def save(self):
        if not self.path:
            return
        with self.lock:
            state = {name: getattr(self, name) for name in PERSISTENT}
            os.makedirs(self.directory, exist_ok=True)
            temporary = f'{self.path}.{os.getpid()}.tmp'
            with open(temporary, 'w', encoding='utf-8') as f:
                json.dump(state, f, ensure_ascii=False, indent=1)
            os.replace(temporary, self.path)

    def clear_data(self):
        "Forget invoices and sessions (authentication stays valid)"
        with self.lock:
            for name in PERSISTENT:
                setattr(self, name, {})

    def find_invoice(self, seller_nip, kind, number):
        "The invoice with this duplicate key (faktury/weryfikacja-faktury.md)"
        with self.lock:
            for invoice in self.invoices.values():
                meta = invoice['meta']
                if (meta['seller']['nip'] == seller_nip
                        and meta['rodzajFaktury'] == kind
                        and meta['invoiceNumber'] == number):
                    return invoice

    def invoice_by_hash(self, invoice_hash):
        with self.lock:
            for invoice in self.invoices.values():
                if invoice['invoiceHash'] == invoice_hash:
                    return invoice
