"""How a Slack client displays a message's text, as HTML, so tests can compare what respondents see.

Slack knows two text formats:

* standard Markdown: streamed text (`chat.startStream` / `appendStream` / `stopStream` `markdown_text` chunks),
  the `markdown_text` argument of chat.postMessage / chat.update, and the `markdown` block;
* mrkdwn: a message's `text` and `mrkdwn` text objects (section, context). `*bold*`, `_italic_`, `~strike~`,
  `` `code` ``, `<url|label>` links; no `**`, no `[label](url)` links and no lists.

Only the message's text is rendered: the text of a markdown message, then its `markdown` and `section` blocks
(or its `text` when it has no such block). Interactive blocks are left out.
"""

from __future__ import annotations

import html
import re
from typing import Any

from markdown_it import MarkdownIt

from .state import FakeMessage

_markdown = MarkdownIt("commonmark").enable(["table", "strikethrough"])

_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]+))?>")
_SPANS = (
    (re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])"), "strong"),
    (re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])"), "em"),
    (re.compile(r"(?<![\w~])~(?!\s)([^~\n]+?)(?<!\s)~(?![\w~])"), "del"),
    (re.compile(r"`([^`\n]+)`"), "code"),
)


def markdown_html(text: str) -> str:
    """Standard Markdown as HTML."""
    return _markdown.render(text).strip()


def mrkdwn_html(text: str) -> str:
    """Slack mrkdwn as HTML: paragraphs of lines, spans and `<url|label>` links; everything else literal."""
    links: list[str] = []

    def keep_link(match: re.Match[str]) -> str:
        url, label = match.group(1), match.group(2) or match.group(1)
        links.append(f'<a href="{html.escape(url)}">{html.escape(html.unescape(label))}</a>')
        return f"\x00{len(links) - 1}\x00"

    out = _LINK.sub(keep_link, text)
    out = html.escape(html.unescape(out), quote=False)
    for pattern, tag in _SPANS:
        out = pattern.sub(lambda m, t=tag: f"<{t}>{m.group(1)}</{t}>", out)
    out = re.sub(r"\x00(\d+)\x00", lambda m: links[int(m.group(1))], out)
    paragraphs = [p.replace("\n", "<br />\n") for p in re.split(r"\n{2,}", out.strip()) if p.strip()]
    return "\n".join(f"<p>{p}</p>" for p in paragraphs)


def _block_html(block: dict[str, Any]) -> str | None:
    if block.get("type") == "markdown":
        return markdown_html(str(block.get("text") or ""))
    if block.get("type") == "section" and isinstance(block.get("text"), dict):
        obj = block["text"]
        text = str(obj.get("text") or "")
        return mrkdwn_html(text) if obj.get("type") == "mrkdwn" else f"<p>{html.escape(text)}</p>"
    return None


def render_message(msg: FakeMessage) -> str:
    """The message's text as a client shows it (HTML), interactive parts left out."""
    parts: list[str] = []
    if msg.markdown and msg.text:
        parts.append(markdown_html(msg.text))
    for block in msg.blocks or []:
        shown = _block_html(block)
        if shown:
            parts.append(shown)
    if not parts and msg.text:
        parts.append(mrkdwn_html(msg.text))
    return "\n".join(parts)
