"""Reading a warning feed: Atom or RSS whose entries link to CAP documents, or one CAP document.

Conditional GET (If-None-Match / If-Modified-Since) keeps polls cheap; bodies are read with a
size cap and a timeout. A feed that is down, slow, or answers with HTML is a FeedError with a
reason for the log; the poller keeps going. Entry links already read are remembered, so an
alert is fetched once, and a single-document feed is re-read only when its bytes change.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlparse

import requests
from lxml import etree

from controller.alerts import xml_safety
from controller.alerts.cap import NS as CAP_NS

ATOM = "http://www.w3.org/2005/Atom"
CAP_TYPES = ("application/cap+xml", "application/xml", "text/xml")
SEEN_KEEP = 500
USER_AGENT = "commune-radio CAP poller"


class FeedError(RuntimeError):
    """The feed could not be read; the message says why (shown on the page and logged)."""


@dataclass
class FeedState:
    """What the last poll learnt: validators for conditional GET and what was already read."""

    etag: str | None = None
    last_modified: str | None = None
    seen: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Document:
    """One CAP document found in the feed, with where it came from."""

    url: str
    data: bytes


def _get(session: requests.Session, url: str, timeout: float, max_bytes: int,
         headers: dict | None = None) -> requests.Response:
    if urlparse(url).scheme not in ("http", "https"):
        raise FeedError(f"link {url[:200]!r} is not http(s)")
    try:
        resp = session.get(url, timeout=timeout, stream=True, allow_redirects=True,
                           headers={"User-Agent": USER_AGENT, **(headers or {})})
        if resp.status_code == 304:
            return resp
        if resp.status_code != 200:
            raise FeedError(f"{url} answered HTTP {resp.status_code}")
        body = b""
        for chunk in resp.iter_content(65536):
            body += chunk
            if len(body) > max_bytes:
                raise FeedError(f"{url} sent more than {max_bytes} bytes")
        resp._content = body
        return resp
    except requests.Timeout:
        raise FeedError(f"{url} did not answer within {timeout:g} s") from None
    except requests.RequestException as exc:
        raise FeedError(f"{url} cannot be reached: {type(exc).__name__}") from None


def _root(data: bytes, url: str, content_type: str):
    if "html" in content_type.lower() or data.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")):
        raise FeedError(f"{url} returned an HTML page, not a feed or a CAP alert")
    try:
        return xml_safety.parse(data)
    except xml_safety.UnsafeXml as exc:
        raise FeedError(f"{url}: {exc}") from None


def _entry_links(root, base: str) -> list[str]:
    """CAP links of an Atom feed or RSS channel, oldest first (feeds list newest first)."""
    links: list[str] = []
    if root.tag == f"{{{ATOM}}}feed":
        for entry in root.findall(f"{{{ATOM}}}entry"):
            chosen = None
            for link in entry.findall(f"{{{ATOM}}}link"):
                href, kind = link.get("href"), (link.get("type") or "").lower()
                if href and (kind in CAP_TYPES or chosen is None):
                    chosen = href
            if chosen:
                links.append(urljoin(base, chosen))
    elif etree.QName(root).localname == "rss":
        for item in root.iter("item"):
            enclosure = item.find("enclosure")
            href = enclosure.get("url") if enclosure is not None else (item.findtext("link") or "").strip()
            if href:
                links.append(urljoin(base, href))
    else:
        raise FeedError(f"{base}: <{etree.QName(root).localname}> is neither Atom, RSS nor a CAP alert")
    return list(reversed(links))


def poll(feed, state: FeedState, *, max_bytes: int, session: requests.Session | None = None
         ) -> tuple[list[Document], list[str]]:
    """New CAP documents of a feed since the last poll, and the links that failed.

    Raises FeedError when the feed itself cannot be read. When an entry fails, the
    validators are not kept, so the next poll reads the feed again and retries it.
    """
    session = session or requests.Session()
    headers = {}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    resp = _get(session, feed.url, feed.timeout_s, max_bytes * 5, headers)
    if resp.status_code == 304:
        return [], []
    etag, modified = resp.headers.get("ETag") or None, resp.headers.get("Last-Modified") or None
    data = resp.content
    root = _root(data, feed.url, resp.headers.get("Content-Type", ""))
    if root.tag == f"{{{CAP_NS}}}alert" or etree.QName(root).localname == "alert":
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        state.etag, state.last_modified = etag, modified
        if digest in state.seen:
            return [], []
        _remember(state, digest)
        return [Document(feed.url, data)], []
    docs, failed = [], []
    for link in _entry_links(root, feed.url):
        if link in state.seen:
            continue
        try:
            got = _get(session, link, feed.timeout_s, max_bytes)
        except FeedError as exc:
            failed.append(str(exc))
            continue
        docs.append(Document(link, got.content))
        _remember(state, link)
    if not failed:
        state.etag, state.last_modified = etag, modified
    return docs, failed


def _remember(state: FeedState, key: str) -> None:
    state.seen.append(key)
    del state.seen[:-SEEN_KEEP]
