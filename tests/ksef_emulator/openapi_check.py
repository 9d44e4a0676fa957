"""Check the emulator's JSON answers against open-api.json (test helper).

For a recorded response, finds the operation of its method and path, the
schema of its status and content type, and walks it: required properties,
no property the schema does not name, types, enums, lengths, patterns and
date-times. Enough to catch an answer that drifts from KSeF's shapes; it is
not a full JSON Schema implementation (no oneOf, no numeric bounds).
"""
import json
import os
import re

from . import dates

CANDIDATES = [
    os.environ.get('KSEF_OPENAPI', ''),
    # shared/ beside the project (the workplace and CI lay it out so)
    os.path.join(os.path.dirname(__file__), '..', '..', '..', 'shared',
        'facts', 'ksef', 'open-api.json'),
    ]


def find_spec():
    for path in CANDIDATES:
        if path and os.path.exists(path):
            return os.path.abspath(path)


class Spec:

    def __init__(self, path):
        with open(path, encoding='utf-8') as f:
            self.document = json.load(f)
        self.schemas = self.document['components']['schemas']
        self.routes = []
        for template, operations in self.document['paths'].items():
            pattern = re.sub(r'\\{[^/]+\\}', '[^/]+', re.escape(template))
            for method, operation in operations.items():
                self.routes.append((method.upper(), re.compile(
                            f'^/v2{pattern}$'), template.count('{'),
                        template, operation))

    def operation(self, method, path):
        "The operation of a request, the most literal template first"
        found = [r for r in self.routes
            if r[0] == method and r[1].match(path)]
        if not found:
            raise AssertionError(f'{method} {path} is not in open-api.json')
        found.sort(key=lambda r: r[2])
        return found[0][3], found[0][4]

    def check_response(self, method, path, status, content_type, body):
        "The problems of one JSON answer (an empty list when it conforms)"
        template, operation = self.operation(method, path)
        response = operation['responses'].get(str(status))
        where = f'{method} {template} {status}'
        if response is None:
            return [f'{where}: status not in open-api.json']
        content = response.get('content', {})
        media = content_type.split(';')[0].strip()
        if media not in content:
            return [f'{where}: content type {media} not in open-api.json']
        problems = []
        self.check(content[media]['schema'], body, where, problems)
        return problems

    def resolve(self, schema):
        while '$ref' in schema:
            schema = self.schemas[schema['$ref'].rsplit('/', 1)[-1]]
        return schema

    def _properties(self, schema):
        "Properties and required names, allOf included"
        schema = self.resolve(schema)
        properties = dict(schema.get('properties', {}))
        required = set(schema.get('required', []))
        for part in schema.get('allOf', []):
            more, needed = self._properties(part)
            properties.update(more)
            required |= needed
        return properties, required

    def _type(self, schema):
        schema = self.resolve(schema)
        if 'type' in schema:
            return schema['type']
        for part in schema.get('allOf', []):
            found = self._type(part)
            if found:
                return found

    def _facets(self, schema):
        "enum, lengths, pattern, format along allOf"
        schema = self.resolve(schema)
        facets = {k: schema[k] for k in ('enum', 'maxLength', 'minLength',
                'pattern', 'format') if k in schema}
        for part in schema.get('allOf', []):
            for key, value in self._facets(part).items():
                facets.setdefault(key, value)
        return facets

    def check(self, schema, value, where, problems):
        raw = schema
        schema = self.resolve(schema)
        if value is None:
            if not (raw.get('nullable') or schema.get('nullable')):
                problems.append(f'{where}: null where not nullable')
            return
        kind = self._type(schema)
        if kind == 'object' or (kind is None and self._properties(schema)[0]):
            if not isinstance(value, dict):
                problems.append(f'{where}: {value!r} is not an object')
                return
            properties, required = self._properties(schema)
            for name in sorted(required - set(value)):
                problems.append(f'{where}: required {name!r} missing')
            extra = self.resolve(schema).get('additionalProperties')
            for name, item in value.items():
                if name in properties:
                    self.check(properties[name], item, f'{where}.{name}',
                        problems)
                elif extra:
                    if isinstance(extra, dict):
                        self.check(extra, item, f'{where}.{name}', problems)
                else:
                    problems.append(f'{where}: {name!r} not in the schema')
            return
        if kind == 'array':
            if not isinstance(value, list):
                problems.append(f'{where}: {value!r} is not an array')
                return
            for index, item in enumerate(value):
                self.check(schema['items'], item, f'{where}[{index}]',
                    problems)
            return
        expected = {'string': str, 'integer': int, 'number': (int, float),
            'boolean': bool}.get(kind)
        if expected and (not isinstance(value, expected) or (
                    kind != 'boolean' and isinstance(value, bool))):
            problems.append(f'{where}: {value!r} is not a {kind}')
            return
        facets = self._facets(schema)
        if 'enum' in facets and value not in facets['enum']:
            problems.append(f'{where}: {value!r} not one of {facets["enum"]}')
        if isinstance(value, str):
            if len(value) > facets.get('maxLength', len(value)):
                problems.append(f'{where}: {value!r} too long')
            if len(value) < facets.get('minLength', 0):
                problems.append(f'{where}: {value!r} too short')
            if 'pattern' in facets and not re.search(facets['pattern'], value):
                problems.append(f'{where}: {value!r} does not match '
                    f'{facets["pattern"]}')
            if facets.get('format') == 'date-time':
                try:
                    dates.parse(value)
                except ValueError:
                    problems.append(f'{where}: {value!r} is not a date-time')
