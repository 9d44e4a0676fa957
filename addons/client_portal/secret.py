"""Secrets stored on a settings record (API tokens, certificates) that no
user reads back, not even an administrator: ir.model.field.access forbids
reading and writing the stored fields, the form shows write-only
`<name>_input` Function fields instead, and `<flag>_set` says whether a
value is stored. Only the modules' own code reads them, as the system."""
from trytond.transaction import without_check_access


class SecretInputs:
    "Write-only inputs over stored secrets; _secret_flags: flag → stored"
    __slots__ = ()
    _secret_flags = {}

    @classmethod
    def get_input(cls, records, name):
        # Write-only: the stored value is never sent back
        return {r.id: None for r in records}

    @classmethod
    def set_input(cls, records, name, value):
        if value is None or value == '':
            # An empty input keeps what is stored
            return
        with without_check_access():
            cls.write(records, {name[:-len('_input')]: value})

    @classmethod
    def get_set(cls, records, name):
        names = cls._secret_flags[name]
        with without_check_access():
            values = cls.read([r.id for r in records], names)
        return {v['id']: all(v[n] for n in names) for v in values}
