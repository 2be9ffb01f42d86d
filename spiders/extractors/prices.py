"""Prices and stock as products carry them: amounts, ISO 4217 currencies and availability.

Amounts are read by price-parser (Zyte's), which knows decimal commas and thousands separators;
this module only maps what it returns to ISO codes and Diffbot's field shapes.

    >>> read_price("1.299,00 €"), read_price("$49.99", host="shop.example.ca")
    (Price(amount=1299.0, currency='EUR', text='1.299,00 €'), Price(amount=49.99, currency='CAD', text='$49.99'))
    >>> price_details(Price(59.99, "USD", ""))
    {'amount': 59.99, 'symbol': '$', 'text': '$59.99'}
    >>> in_stock("https://schema.org/OutOfStock"), in_stock("Auf Lager"), in_stock("call us")
    (False, True, None)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from price_parser import Price as _Parsed

__all__ = ["Price", "currency_code", "in_stock", "price_details", "read_price"]

#: Currency symbols and names as they appear on pages, to ISO 4217.
_SYMBOLS = {
    "$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "円": "JPY", "₹": "INR", "₩": "KRW",
    "CHF": "CHF", "Fr.": "CHF", "kr": "SEK", "zł": "PLN", "R$": "BRL", "₽": "RUB", "₺": "TRY",
    "C$": "CAD", "CA$": "CAD", "A$": "AUD", "AU$": "AUD", "NZ$": "NZD", "HK$": "HKD", "S$": "SGD",
    "Kč": "CZK", "Ft": "HUF", "lei": "RON",
}
#: Where "$" is not the US dollar, by the host's top-level domain.
_DOLLAR_BY_TLD = {"ca": "CAD", "au": "AUD", "nz": "NZD", "sg": "SGD", "hk": "HKD", "mx": "MXN"}
_DISPLAY = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "KRW": "₩", "CAD": "CA$", "AUD": "A$",
            "NZD": "NZ$", "HKD": "HK$", "SGD": "S$", "BRL": "R$"}
_ISO = re.compile(r"[A-Z]{3}")
_IN_STOCK = re.compile(
    r"\b(?:in ?stock|instock|available|limited ?availability|online ?only|in ?store ?only|pre-?order|back-?order"
    r"|on ?sale|auf lager|sofort lieferbar|lieferbar|verfügbar|en stock|disponible|disponibile)\b",
    re.IGNORECASE)
_OUT_OF_STOCK = re.compile(
    r"\b(?:out ?of ?stock|outofstock|oos|sold ?out|soldout|discontinued|unavailable|not available"
    r"|currently unavailable|nicht (?:lieferbar|verfügbar|auf lager)|ausverkauft|vergriffen|rupture de stock"
    r"|épuisé|agotado|esaurito)\b",
    re.IGNORECASE)


@dataclass(frozen=True)
class Price:
    amount: float
    currency: str  # ISO 4217, '' when unknown
    text: str  # as shown on the page ('' when it came from markup)


def _tld(host: str) -> str:
    return host.rsplit(".", 1)[-1].lower() if host else ""


def currency_code(raw: str | None, host: str = "") -> str:
    """ISO 4217 code of a currency symbol or code (`$` by the host's country for dollars)."""
    if not raw:
        return ""
    text = raw.strip()
    if text == "$":
        return _DOLLAR_BY_TLD.get(_tld(host), "USD")
    if text in _SYMBOLS:
        return _SYMBOLS[text]
    return text.upper() if _ISO.fullmatch(text.upper()) else ""


def read_price(text: str | None, currency_hint: str = "", host: str = "") -> Price | None:
    """The price in a text (`$1,299.00`, `29,95 €`, `Price: £6.50`), or None."""
    if not text or len(text) > 200:
        return None
    parsed = _Parsed.fromstring(text, currency_hint=currency_hint or None)
    if parsed.amount is None:
        return None
    amount = parsed.amount
    if not isinstance(amount, Decimal) or amount < 0:
        return None
    return Price(float(amount), currency_code(parsed.currency, host), text.strip())


def price_details(price: Price) -> dict[str, object]:
    """Diffbot's `offerPriceDetails` shape: amount, symbol and text."""
    symbol = _DISPLAY.get(price.currency, f"{price.currency} " if price.currency else "")
    text = price.text or f"{symbol}{price.amount:,.2f}"
    return {"amount": price.amount, "symbol": symbol.strip(), "text": text}


def in_stock(value: str | None) -> bool | None:
    """Availability as Diffbot has it (true or false) from schema.org URLs or shop wording;
    None when it says neither."""
    if not value:
        return None
    text = value.rsplit("/", 1)[-1] if value.startswith("http") else value
    if _OUT_OF_STOCK.search(text):
        return False
    if _IN_STOCK.search(text):
        return True
    return None
