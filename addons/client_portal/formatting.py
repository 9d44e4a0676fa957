"""Dates as a Polish firm writes them, in every language: 16.11.2026.

Tryton's English language formats dates the US way (11/16/2026), which a
Polish firm's clients misread; pages, e-mails and PDFs all use these."""

DATE = '%d.%m.%Y'
DATETIME = DATE + ' %H:%M'


def date(value):
    return value.strftime(DATE) if value else ''


def datetime(value):
    return value.strftime(DATETIME) if value else ''
