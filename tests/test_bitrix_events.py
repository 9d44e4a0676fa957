"""The endpoint of Bitrix24's outbound events: the application token is
checked, the event only written down (processed after the commit), and
nothing else answered than a status."""
import pytest

from portal_http import DB, Browser, in_transaction

TOKEN = 'bitrix-events-token'


def _configure(token):
    from trytond.pool import Pool
    Configuration = Pool().get('bitrix.configuration')
    Configuration.write([Configuration(1)],
        {'application_token_input': token})


def _events():
    from trytond.pool import Pool
    Event = Pool().get('bitrix.event')
    return [(e.name, e.entity_type_id, e.bitrix_id) for e in Event.search(
            [], order=[('id', 'ASC')])]


@pytest.fixture
def events(data):
    in_transaction(_configure, TOKEN)
    return Browser()


def _post(browser, form):
    return browser.client.post(f'/{DB}/bitrix/events', data=form)


def test_wrong_or_missing_token_is_refused(events):
    before = in_transaction(_events)
    for auth in [{}, {'auth[application_token]': 'forged'},
            {'auth[application_token]': TOKEN[:-1]}]:
        response = _post(events, dict({'event': 'ONCRMQUOTEUPDATE',
                    'data[FIELDS][ID]': '5'}, **auth))
        assert response.status_code == 403
    assert in_transaction(_events) == before


def test_event_is_written_down(events):
    before = in_transaction(_events)
    response = _post(events, {'event': 'ONCRMQUOTEUPDATE',
            'event_handler_id': '3', 'data[FIELDS][ID]': '42', 'ts': '1',
            'auth[domain]': 'firm.bitrix24.pl',
            'auth[application_token]': TOKEN})
    assert response.status_code == 200
    response = _post(events, {'event': 'ONCRMDYNAMICITEMUPDATE',
            'data[FIELDS][ID]': '7', 'data[FIELDS][ENTITY_TYPE_ID]': '1036',
            'auth[application_token]': TOKEN})
    assert response.status_code == 200
    assert in_transaction(_events)[len(before):] == [
        ('ONCRMQUOTEUPDATE', 7, 42), ('ONCRMDYNAMICITEMUPDATE', 1036, 7)]


def test_malformed_event_is_a_bad_request(events):
    response = _post(events, {'event': 'ONCRMQUOTEUPDATE',
            'data[FIELDS][ID]': "5'; DROP TABLE",
            'auth[application_token]': TOKEN})
    assert response.status_code == 400


def test_without_a_token_in_the_settings_nothing_is_accepted(data):
    in_transaction(_configure, '')
    browser = Browser()
    # An empty input keeps the stored token: clear it as the system
    from trytond.pool import Pool

    def clear():
        Configuration = Pool().get('bitrix.configuration')
        Configuration.write([Configuration(1)], {'application_token': None})
    in_transaction(clear)
    response = _post(browser, {'event': 'ONCRMQUOTEUPDATE',
            'data[FIELDS][ID]': '5', 'auth[application_token]': ''})
    assert response.status_code == 403
