"""What kind of page this is: analyze's decision, from signals an adapter read off the page.

Evidence is weighed in a fixed order: schema.org types (what the site says about itself), then
OpenGraph's og:type, then the page's shape (prose, repeated items, posts, a price with a
buy button, a main image or video).

    >>> classify(PageSignals(schema_types=("WebPage", "NewsArticle"), text_chars=1800))
    'article'
    >>> classify(PageSignals(og_type="product"))
    'product'
    >>> classify(PageSignals(list_items=8, list_chars=900, text_chars=120))
    'list'
    >>> classify(PageSignals(text_chars=90))
    'other'
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ARTICLE_TYPES", "DISCUSSION_TYPES", "LIST_TYPES", "PRODUCT_TYPES", "PageSignals", "classify"]

PRODUCT_TYPES = frozenset({"Product", "ProductGroup", "ProductModel", "IndividualProduct", "SomeProducts"})
DISCUSSION_TYPES = frozenset({"DiscussionForumPosting", "QAPage", "Question"})
ARTICLE_TYPES = frozenset({
    "Article", "NewsArticle", "BlogPosting", "ReportageNewsArticle", "AnalysisNewsArticle",
    "OpinionNewsArticle", "ReviewNewsArticle", "BackgroundNewsArticle", "AskPublicNewsArticle",
    "SatiricalArticle", "TechArticle", "ScholarlyArticle", "MedicalScholarlyArticle", "Report",
    "LiveBlogPosting", "SocialMediaPosting",
})
LIST_TYPES = frozenset({"ItemList", "CollectionPage", "SearchResultsPage", "Blog"})
VIDEO_TYPES = frozenset({"VideoObject", "Movie", "Clip", "Episode", "TVEpisode"})
IMAGE_TYPES = frozenset({"ImageObject", "Photograph", "ImageGallery"})

#: Prose (characters of paragraph text outside lists and boilerplate) that makes a page an article.
ARTICLE_TEXT = 500
#: Less prose than this leaves room for a media page or a list.
SHORT_TEXT = 400
#: Repeated items that make a page a list, and posts that make it a discussion.
LIST_ITEMS = 4
POSTS = 3


@dataclass(frozen=True)
class PageSignals:
    """What analyze looks at. All counts are of the page's content, boilerplate (navigation,
    headers, footers, sidebars, forms) left out."""

    schema_types: tuple[str, ...] = ()  # schema.org types of top-level items, in page order
    og_type: str = ""  # og:type, lowercased
    text_chars: int = 0  # paragraph text, outside the repeated items
    list_items: int = 0  # items of the largest group of repeated title links
    list_chars: int = 0  # text inside those items
    posts: int = 0  # posts of the largest group of repeated author-signed blocks
    has_price: bool = False  # a price shown (markup or a price element)
    has_cart: bool = False  # an add-to-cart or buy button
    big_images: int = 0  # images drawn 500 pixels wide or more
    videos: int = 0  # video elements and embedded players


def _from_schema(s: PageSignals) -> str:
    types = set(s.schema_types)
    if types & PRODUCT_TYPES:
        return "product"
    if types & DISCUSSION_TYPES:
        return "discussion"
    if types & ARTICLE_TYPES and s.text_chars >= SHORT_TEXT // 2:
        return "article"
    if types & LIST_TYPES and s.list_items >= 2:
        return "list"
    if types & VIDEO_TYPES and s.text_chars < ARTICLE_TEXT:
        return "video"
    if types & IMAGE_TYPES and s.text_chars < SHORT_TEXT:
        return "image"
    if types & ARTICLE_TYPES:
        return "article"
    return ""


def _from_og(s: PageSignals) -> str:
    og = s.og_type
    if og.startswith("product"):
        return "product"
    if og.startswith("video") and s.text_chars < ARTICLE_TEXT:
        return "video"
    if og.startswith("article") and s.text_chars >= SHORT_TEXT and not _listy(s):
        return "article"
    return ""


def _listy(s: PageSignals) -> bool:
    return s.list_items >= LIST_ITEMS and s.list_chars >= s.text_chars


def _from_shape(s: PageSignals) -> str:
    if s.has_price and s.has_cart and not _listy(s):
        return "product"
    if s.posts >= POSTS:
        return "discussion"
    if _listy(s):
        return "list"
    if s.text_chars >= ARTICLE_TEXT:
        return "article"
    if s.videos and s.text_chars < SHORT_TEXT:
        return "video"
    if s.big_images and s.text_chars < SHORT_TEXT:
        return "image"
    return "other"


def classify(signals: PageSignals) -> str:
    """The page type: article, product, list, discussion, image, video or other."""
    return _from_schema(signals) or _from_og(signals) or _from_shape(signals)
