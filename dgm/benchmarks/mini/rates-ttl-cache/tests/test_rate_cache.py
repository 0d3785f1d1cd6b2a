from decimal import Decimal

import pytest

from rates.service import RateService, UnknownCurrency
from rates.source import SourceError


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class CountingSource:
    def __init__(self):
        self.calls = []
        self.fail = False
        self.version = 1

    def fetch(self, base):
        self.calls.append(base)
        if self.fail:
            raise SourceError("provider down")
        factor = Decimal(self.version)
        return {"EUR": {"USD": Decimal("1.10") * factor, "GBP": Decimal("0.85")},
                "USD": {"EUR": Decimal("0.90") * factor}}[base]


def make(ttl=300.0):
    source, clock = CountingSource(), FakeClock()
    return RateService(source, clock=clock, ttl=ttl), source, clock


def test_default_ttl_caches():
    source = CountingSource()
    service = RateService(source, clock=FakeClock())
    for _ in range(40):
        service.convert(Decimal("10.00"), "EUR", "USD")
    assert source.calls == ["EUR"]


def test_expires_at_ttl():
    service, source, clock = make(ttl=60)
    assert service.rate("EUR", "USD") == Decimal("1.10")
    source.version = 2
    clock.now += 59.9
    assert service.rate("EUR", "USD") == Decimal("1.10")
    clock.now += 0.1
    assert service.rate("EUR", "USD") == Decimal("2.20")
    assert source.calls == ["EUR", "EUR"]


def test_cache_is_per_base():
    service, source, clock = make()
    service.rate("EUR", "USD")
    service.rate("USD", "EUR")
    service.rate("EUR", "GBP")
    service.rate("USD", "EUR")
    assert source.calls == ["EUR", "USD"]


def test_invalidate_one_and_all():
    service, source, clock = make()
    service.rate("EUR", "USD")
    service.rate("USD", "EUR")
    service.invalidate("EUR")
    service.rate("EUR", "USD")
    service.rate("USD", "EUR")
    assert source.calls == ["EUR", "USD", "EUR"]
    service.invalidate()
    service.rate("EUR", "USD")
    service.rate("USD", "EUR")
    assert source.calls == ["EUR", "USD", "EUR", "EUR", "USD"]


def test_stale_served_when_source_fails_and_retried():
    service, source, clock = make(ttl=10)
    service.rate("EUR", "USD")
    clock.now += 11
    source.fail = True
    assert service.rate("EUR", "USD") == Decimal("1.10")
    assert service.rate("EUR", "GBP") == Decimal("0.85")
    assert source.calls == ["EUR", "EUR", "EUR"]
    source.fail = False
    source.version = 3
    assert service.rate("EUR", "USD") == Decimal("3.30")
    assert service.rate("EUR", "USD") == Decimal("3.30")
    assert source.calls == ["EUR", "EUR", "EUR", "EUR"]


def test_failure_without_table_propagates_and_is_not_cached():
    service, source, clock = make()
    source.fail = True
    with pytest.raises(SourceError):
        service.rate("EUR", "USD")
    source.fail = False
    assert service.rate("EUR", "USD") == Decimal("1.10")
    assert source.calls == ["EUR", "EUR"]


def test_unknown_quote_uses_cache():
    service, source, clock = make()
    for _ in range(3):
        with pytest.raises(UnknownCurrency):
            service.rate("EUR", "JPY")
    assert source.calls == ["EUR"]


def test_same_currency_needs_no_source():
    service, source, clock = make()
    assert service.convert(Decimal("12.345"), "EUR", "EUR") == Decimal("12.34")
    assert source.calls == []


def test_convert_many_single_fetch():
    service, source, clock = make()
    assert service.convert_many([Decimal("1"), Decimal("2.50")], "EUR", "USD") == [Decimal("1.10"), Decimal("2.75")]
    assert source.calls == ["EUR"]
