"""The product extractor: schema.org Product and Offer first, then OpenGraph product tags, then
the page (price elements, stock wording, specification tables, brand and SKU labels).

Fields: title, text (the description), brand, sku, mpn, offerPrice and regularPrice (as shown,
with `...Details` {amount, symbol, text}), currency (ISO 4217), availability (true/false),
images, specs (name -> value), and the optional fields asked for.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from crawlcore.api_url import ApiSpec
from crawlcore.pagetype import PRODUCT_TYPES

from .common import human_language, image_entries, optional_fields, page_title
from .document import Doc, clean, text_of
from .prices import Price, currency_code, in_stock, price_details, read_price
from .shape import is_boilerplate
from .structured import find_item, first_text, names, text_values, type_names

__all__ = ["product"]

_REGULAR_HINT = re.compile(r"was|old|regular|list|compare|strike|original|before|uvp|statt|msrp|rrp", re.I)
_PRICE_HINT = re.compile(r"price|preis|prix|precio|prezzo|cost|amount|betrag", re.I)
_STOCK_HINT = re.compile(r"stock|avail|inventory|lieferbar|verfuegbar|verfügbar|lager|dispo", re.I)
_DESCRIPTION_HINT = re.compile(r"desc|beschreibung|details|summary|rte|about", re.I)
_LABELS = {
    "brand": re.compile(r"^(?:brand|marke|hersteller|manufacturer|marque|by)\s*:?\s*([^:\s].*)$", re.I),
    "sku": re.compile(r"^(?:sku|item\s*#|item no\.?|art\.?-?nr\.?|artikelnummer|model|modell|part no\.?)\s*[:#]?\s*"
                      r"([A-Za-z0-9][\w./-]{2,40})\b", re.I),
}
_STRUCK = ("del", "s", "strike")
_TEXT_NODES = etree.XPath("//body//text()[not(ancestor::script or ancestor::style)]")
_MAX_SPECS = 60


def _offers(item: dict[str, Any]) -> list[dict[str, Any]]:
    raw = item.get("offers")
    offers = [o for o in (raw if isinstance(raw, list) else [raw]) if isinstance(o, dict)]
    nested: list[dict[str, Any]] = []
    for offer in offers:  # an AggregateOffer may list its offers
        inner = offer.get("offers")
        nested.extend(o for o in (inner if isinstance(inner, list) else [inner]) if isinstance(o, dict))
    return offers + nested


def _amount(value: Any, currency: str, host: str) -> Price | None:
    for text in text_values(value):
        price = read_price(text, host=host)
        if price is not None:
            return Price(price.amount, currency or price.currency, "")
    return None


def _structured_prices(item: dict[str, Any], host: str) -> tuple[Price | None, Price | None, bool | None]:
    """(offer price, regular price, availability) from schema.org offers."""
    offer_price = regular = None
    available: bool | None = None
    for offer in _offers(item):
        specs = offer.get("priceSpecification")
        specs = [s for s in (specs if isinstance(specs, list) else [specs]) if isinstance(s, dict)]
        currency = first_text(offer, "priceCurrency") or next(
            (first_text(s, "priceCurrency") for s in specs if first_text(s, "priceCurrency")), "")
        currency = currency_code(currency, host)
        if offer_price is None:
            offer_price = _amount(offer.get("price"), currency, host) or _amount(offer.get("lowPrice"), currency, host)
        for spec in specs:
            kind = first_text(spec, "priceType")
            price = _amount(spec.get("price"), currency_code(first_text(spec, "priceCurrency"), host) or currency, host)
            if price is None:
                continue
            if re.search(r"ListPrice|StrikethroughPrice|MSRP|SRP", kind):
                regular = regular or price
            elif offer_price is None:
                offer_price = price
        if available is None:
            available = in_stock(first_text(offer, "availability"))
    return offer_price, regular, available


def _price_elements(doc: Doc) -> list[Any]:
    """Innermost elements that show a price (by class, id or itemprop) or strike one through."""
    found: list[Any] = []
    for element in doc.root.iter():
        if not isinstance(element.tag, str) or len(element) > 4:
            continue
        hints = f"{element.get('class') or ''} {element.get('id') or ''} {element.get('itemprop') or ''}"
        if element.tag in _STRUCK or _PRICE_HINT.search(hints):
            found.append(element)
    inner = [e for e in found if not any(o is not e and _contains(e, o) for o in found)]
    return [e for e in inner if not any(
        is_boilerplate(a) or re.search(r"tile|card|related|recommend", a.get("class") or "")
        for a in e.iterancestors())]


def _contains(outer: Any, inner: Any) -> bool:
    return any(a is outer for a in inner.iterancestors())


def _shown(price: Price) -> Price:
    """The price as shown when the element holds just the price, else as formatted from its amount."""
    text = price.text
    bare = re.sub(r"\b[A-Z]{3}\b", "", text)
    if len(text) <= 24 and not re.search(r"[^\W\d_]{2,}", bare):
        return price
    return Price(price.amount, price.currency, "")


def _page_prices(doc: Doc, host: str) -> tuple[Price | None, Price | None]:
    """(offer price, regular price) from price elements: struck-through or 'was' prices are regular."""
    offer = regular = None
    for element in _price_elements(doc):
        price = read_price(text_of(element), host=host)
        if price is None or not price.currency:
            continue
        hints = f"{element.get('class') or ''} {element.get('id') or ''} {element.get('itemprop') or ''}"
        struck = element.tag in _STRUCK or any(a.tag in _STRUCK for a in element.iterancestors())
        if struck or _REGULAR_HINT.search(hints):
            regular = regular or _shown(price)
        elif offer is None:
            offer = _shown(price)
        if offer is not None and regular is not None:
            break
    return offer, regular


def _meta_price(doc: Doc, host: str) -> Price | None:
    amount = doc.meta("product:price:amount", "og:price:amount", "product:sale_price:amount")
    if not amount:
        return None
    price = read_price(amount, host=host)
    currency = currency_code(doc.meta("product:price:currency", "og:price:currency",
                                      "product:sale_price:currency"), host)
    return Price(price.amount, currency or price.currency, "") if price else None


def _stock_from_page(doc: Doc) -> bool | None:
    for element in doc.root.iter():
        if not isinstance(element.tag, str) or len(element) > 3:
            continue
        hints = f"{element.get('class') or ''} {element.get('id') or ''}"
        if _STOCK_HINT.search(hints):
            verdict = in_stock(text_of(element)) if len(text_of(element)) < 120 else None
            if verdict is not None:
                return verdict
    return None


def _label(doc: Doc, name: str) -> str:
    pattern = _LABELS[name]
    for raw in _TEXT_NODES(doc.root):
        text = clean(raw)
        if not text or len(text) > 80:
            continue
        parent = raw.getparent()
        if parent is None:
            continue
        # "Brand: <a>ProGrip</a>": the value can be the next element's text
        line = clean(text_of(parent)) if parent.tag not in ("body", "html") else text
        for candidate in (text, line):
            match = pattern.match(candidate)
            if match:
                value = clean(re.split(r"\s[|·•]\s", match.group(1))[0])
                if value:
                    return value
    return ""


def _specs(doc: Doc, item: dict[str, Any] | None) -> dict[str, str]:
    specs: dict[str, str] = {}
    for prop in (item or {}).get("additionalProperty") or []:
        if isinstance(prop, dict) and first_text(prop, "name") and first_text(prop, "value"):
            specs[first_text(prop, "name")] = first_text(prop, "value")
    for table in doc.root.iter("table", "dl"):
        if any(is_boilerplate(a) for a in table.iterancestors()):
            continue
        if table.tag == "table":
            rows = [[text_of(c) for c in row if isinstance(c.tag, str) and c.tag in ("th", "td")]
                    for row in table.iter("tr")]
            pairs = [(r[0], r[1]) for r in rows if len(r) == 2]
            if len(pairs) < max(2, len(rows) // 2):
                continue
        else:
            terms = [text_of(c) for c in table if c.tag == "dt"]
            values = [text_of(c) for c in table if c.tag == "dd"]
            pairs = list(zip(terms, values, strict=False))
        for key, value in pairs:
            key = key.rstrip(":").strip()
            if key and value and len(key) <= 60 and key not in specs:
                specs[key] = value
        if len(specs) >= _MAX_SPECS:
            break
    return specs


def _text_without_headings(element: Any) -> str:
    parts = element.xpath(".//text()[not(ancestor::script or ancestor::style or ancestor::h1 or ancestor::h2"
                          " or ancestor::h3 or ancestor::h4 or ancestor::button)]")
    return clean(" ".join(parts))


def _description(doc: Doc, item: dict[str, Any] | None) -> str:
    """The product description: a description element of the page, else schema.org's, else the
    longest paragraph."""
    structured = first_text(item, "description")
    longest = ""
    for element in doc.root.iter("div", "section", "p"):
        if any(is_boilerplate(a) for a in element.iterancestors()):
            continue
        hints = f"{element.get('class') or ''} {element.get('id') or ''} {element.get('itemprop') or ''}"
        if _DESCRIPTION_HINT.search(hints) and not any(True for _ in element.iter("h1")):
            text = _text_without_headings(element)
            if len(text) >= 40 and len(text) >= len(structured):
                return text
        elif element.tag == "p":
            text = text_of(element)
            if len(text) > len(longest):
                longest = text
    return structured or doc.meta("description", "og:description") or (longest if len(longest) >= 60 else "")


def product(doc: Doc, spec: ApiSpec) -> dict[str, Any]:
    """The product object's fields (type product)."""
    host = urlsplit(doc.url).hostname or ""
    item = find_item(doc.items, PRODUCT_TYPES)
    offer = regular = None
    available: bool | None = None
    if item is not None:
        offer, regular, available = _structured_prices(item, host)
    offer = offer or _meta_price(doc, host)
    page_offer, page_regular = _page_prices(doc, host)
    offer = offer or page_offer
    if regular is None and page_regular is not None and offer is not None and page_regular.amount > offer.amount:
        regular = page_regular
    if available is None:
        available = in_stock(doc.meta("product:availability", "og:availability"))
    if available is None:
        available = _stock_from_page(doc)
    if offer is not None and not offer.currency and page_offer is not None:
        offer = Price(offer.amount, page_offer.currency, offer.text)
    brand = (names((item or {}).get("brand")) or names((item or {}).get("manufacturer")) or [""])[0]
    obj: dict[str, Any] = {
        "type": "product",
        "title": page_title(doc, first_text(item, "name"), doc.strip_site_name(doc.meta("og:title"))),
        "text": _description(doc, item),
        "brand": brand or doc.meta("product:brand", "og:brand") or _label(doc, "brand"),
        "sku": first_text(item, "sku") or doc.meta("product:retailer_item_id", "product:sku") or _label(doc, "sku"),
    }
    mpn = first_text(item, "mpn")
    if mpn:
        obj["mpn"] = mpn
    gtin = first_text(item, "gtin13", "gtin12", "gtin14", "gtin8", "gtin")
    if gtin:
        obj["gtin"] = gtin
    if offer is not None:
        obj["offerPrice"] = price_details(offer)["text"]
        obj["offerPriceDetails"] = price_details(offer)
    if regular is not None:
        obj["regularPrice"] = price_details(regular)["text"]
        obj["regularPriceDetails"] = price_details(regular)
    shown = offer or regular
    currency = shown.currency if shown is not None else ""
    if currency:
        obj["currency"] = currency
    if available is not None:
        obj["availability"] = available
    images = text_values((item or {}).get("image")) + doc.metas("og:image")
    obj["images"] = image_entries(doc, [(url, "") for url in images])
    obj["specs"] = _specs(doc, item)
    obj["humanLanguage"] = human_language(doc, obj["text"])
    if item is not None and "ProductGroup" in type_names(item):
        obj["productGroup"] = True
    obj.update(optional_fields(doc, spec))
    return obj
