"""Light Block Kit validation, answering the way Slack does (`invalid_blocks` / `msg_blocks_too_long`).

Limits follow Slack's Block Kit reference: 50 blocks per message (100 in views; the streaming methods answer
`msg_blocks_too_many` for more), 25 elements per actions block, 10 per context block, section text 3000 and
fields 10 x 2000, header 150, button text 75 / value 2000, action_id and block_id 255, static and multi static
selects 100 options or up to 100 `option_groups` (label 75) of 100 options each, radio buttons and checkboxes 10,
option text 75 / value 150, `markdown` blocks 12,000 characters together per payload. `msg_blocks_too_long`
answers when the visible text of all blocks together (every `text` string of text objects) passes
`BLOCKS_TEXT_LIMIT`.
"""

from __future__ import annotations

import json
from typing import Any

BLOCKS_TEXT_LIMIT = 13_000
MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100

KNOWN_BLOCKS = {
    "section", "actions", "context", "divider", "header", "image", "input", "rich_text", "markdown",
    "file", "video", "call", "table", "context_actions", "plan", "task_card",
}  # fmt: skip
INTERACTIVE = {
    "button", "static_select", "multi_static_select", "radio_buttons", "checkboxes", "overflow",
    "datepicker", "timepicker", "datetimepicker", "users_select", "multi_users_select", "conversations_select",
    "multi_conversations_select", "channels_select", "multi_channels_select", "external_select",
    "multi_external_select", "plain_text_input", "number_input", "email_text_input", "url_text_input",
    "rich_text_input", "workflow_button", "feedback_buttons", "icon_button", "file_input",
}  # fmt: skip
OPTION_LIMITS = {"static_select": 100, "multi_static_select": 100, "radio_buttons": 10, "checkboxes": 10, "overflow": 5}
#: Selects may group their options instead: up to 100 groups of up to 100 options each.
GROUPABLE = {"static_select", "multi_static_select"}
OPTION_GROUPS_MAX = 100
#: All `markdown` blocks of one payload together hold at most 12,000 characters.
MARKDOWN_BLOCKS_LIMIT = 12_000


class BlockError(Exception):
    """A Slack error code plus the human-readable detail Slack adds in `errors` / `response_metadata`."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def parse_blocks(raw: Any) -> list[dict[str, Any]] | None:
    """Blocks as slack_sdk sends them: a JSON list, or a JSON string of one (form bodies)."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise BlockError("invalid_blocks_format", "blocks is not valid JSON") from exc
    if not isinstance(raw, list) or not all(isinstance(b, dict) for b in raw):
        raise BlockError("invalid_blocks_format", "blocks must be an array of objects")
    return raw


def _text(obj: Any, where: str, limit: int, *, plain_only: bool = False) -> str:
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        raise BlockError("invalid_blocks", f"must provide a text object [json-pointer:{where}]")
    if plain_only and obj["type"] != "plain_text":
        raise BlockError("invalid_blocks", f"must be a plain_text object [json-pointer:{where}/type]")
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        raise BlockError("invalid_blocks", f"must be more than 0 characters [json-pointer:{where}/text]")
    if len(text) > limit:
        raise BlockError("invalid_blocks", f"must be less than {limit + 1} characters [json-pointer:{where}/text]")
    return text


def _check_id(value: Any, where: str) -> None:
    if value is not None and (not isinstance(value, str) or len(value) > 255):
        raise BlockError("invalid_blocks", f"must be less than 256 characters [json-pointer:{where}]")


def _element(el: Any, where: str, texts: list[str], action_ids: set[str]) -> None:
    if not isinstance(el, dict) or el.get("type") not in INTERACTIVE:
        raise BlockError("invalid_blocks", f"unsupported element type [json-pointer:{where}/type]")
    kind = el["type"]
    action_id = el.get("action_id")
    _check_id(action_id, f"{where}/action_id")
    if action_id is not None:
        if action_id in action_ids:
            raise BlockError("invalid_blocks", f"action_id already exists [json-pointer:{where}/action_id]")
        action_ids.add(action_id)
    if kind == "button":
        texts.append(_text(el.get("text"), f"{where}/text", 75, plain_only=True))
        value = el.get("value")
        if value is not None and (not isinstance(value, str) or len(value) > 2000):
            raise BlockError("invalid_blocks", f"must be less than 2001 characters [json-pointer:{where}/value]")
    if kind in OPTION_LIMITS:
        if "option_groups" in el:
            _option_groups(el, kind, where, texts)
        else:
            _options(el.get("options"), OPTION_LIMITS[kind], f"{where}/options", texts)
    if "placeholder" in el:
        texts.append(_text(el["placeholder"], f"{where}/placeholder", 150, plain_only=True))


def _options(options: Any, limit: int, where: str, texts: list[str]) -> None:
    if not isinstance(options, list) or not options:
        raise BlockError("invalid_blocks", f"must provide options [json-pointer:{where}]")
    if len(options) > limit:
        raise BlockError("invalid_blocks", f"no more than {limit} items allowed [json-pointer:{where}]")
    for j, opt in enumerate(options):
        if not isinstance(opt, dict):
            raise BlockError("invalid_blocks", f"must be an object [json-pointer:{where}/{j}]")
        texts.append(_text(opt.get("text"), f"{where}/{j}/text", 75))
        value = opt.get("value")
        if not isinstance(value, str) or len(value) > 150:
            raise BlockError("invalid_blocks", f"must be a string of ≤150 chars [json-pointer:{where}/{j}]")


def _option_groups(el: dict[str, Any], kind: str, where: str, texts: list[str]) -> None:
    """Option groups (selects only): up to 100 groups, each a plain_text label (≤75) and up to 100 options."""
    if kind not in GROUPABLE:
        raise BlockError("invalid_blocks", f"option_groups not allowed [json-pointer:{where}/option_groups]")
    if "options" in el:
        raise BlockError("invalid_blocks", f"options and option_groups are exclusive [json-pointer:{where}]")
    groups = el["option_groups"]
    if not isinstance(groups, list) or not groups or len(groups) > OPTION_GROUPS_MAX:
        raise BlockError(
            "invalid_blocks", f"must hold 1 to {OPTION_GROUPS_MAX} groups [json-pointer:{where}/option_groups]"
        )
    for g, group in enumerate(groups):
        at = f"{where}/option_groups/{g}"
        if not isinstance(group, dict):
            raise BlockError("invalid_blocks", f"must be an object [json-pointer:{at}]")
        texts.append(_text(group.get("label"), f"{at}/label", 75, plain_only=True))
        _options(group.get("options"), OPTION_LIMITS[kind], f"{at}/options", texts)


def _block(block: dict[str, Any], where: str, texts: list[str], block_ids: set[str], in_view: bool) -> None:
    kind = block.get("type")
    if kind not in KNOWN_BLOCKS:
        raise BlockError("invalid_blocks", f"unsupported type: {kind} [json-pointer:{where}/type]")
    block_id = block.get("block_id")
    _check_id(block_id, f"{where}/block_id")
    if block_id is not None:
        if block_id in block_ids:
            raise BlockError("invalid_blocks", f"block_id already exists [json-pointer:{where}/block_id]")
        block_ids.add(block_id)
    action_ids: set[str] = set()
    if kind == "section":
        if "text" not in block and "fields" not in block:
            raise BlockError("invalid_blocks", f"must provide text or fields [json-pointer:{where}]")
        if "text" in block:
            texts.append(_text(block["text"], f"{where}/text", 3000))
        fields = block.get("fields") or []
        if len(fields) > 10:
            raise BlockError("invalid_blocks", f"no more than 10 items allowed [json-pointer:{where}/fields]")
        for j, f in enumerate(fields):
            texts.append(_text(f, f"{where}/fields/{j}", 2000))
        if "accessory" in block:
            _element(block["accessory"], f"{where}/accessory", texts, action_ids)
    elif kind == "header":
        texts.append(_text(block.get("text"), f"{where}/text", 150, plain_only=True))
    elif kind in ("actions", "context"):
        elements = block.get("elements")
        limit = 25 if kind == "actions" else 10
        if not isinstance(elements, list) or not elements:
            raise BlockError("invalid_blocks", f"must provide elements [json-pointer:{where}/elements]")
        if len(elements) > limit:
            raise BlockError("invalid_blocks", f"no more than {limit} items allowed [json-pointer:{where}/elements]")
        for j, el in enumerate(elements):
            if kind == "actions":
                _element(el, f"{where}/elements/{j}", texts, action_ids)
            elif isinstance(el, dict) and el.get("type") in ("plain_text", "mrkdwn"):
                texts.append(_text(el, f"{where}/elements/{j}", 3000))
    elif kind == "input":
        if not in_view:
            raise BlockError("invalid_blocks", f"input blocks are only allowed in views [json-pointer:{where}]")
        texts.append(_text(block.get("label"), f"{where}/label", 2000, plain_only=True))
        _element(block.get("element"), f"{where}/element", texts, action_ids)
    elif kind == "markdown":
        text = block.get("text")
        if not isinstance(text, str) or not text:
            raise BlockError("invalid_blocks", f"must be more than 0 characters [json-pointer:{where}/text]")
        texts.append(text)


def validate_blocks(
    blocks: list[dict[str, Any]],
    *,
    in_view: bool = False,
    text_limit: int = BLOCKS_TEXT_LIMIT,
    too_many: str | None = None,
) -> int:
    """Check blocks like Slack does; raises `BlockError`; returns the counted visible characters.

    More than 50 blocks answer `too_many` where the method documents its own code (the streaming methods:
    `msg_blocks_too_many`, "blocks are limited to 50 per message"), else `invalid_blocks`.
    """
    limit = VIEW_BLOCKS_MAX if in_view else MESSAGE_BLOCKS_MAX
    if len(blocks) > limit:
        detail = f"no more than {limit} items allowed [json-pointer:/blocks]"
        raise BlockError(too_many or "invalid_blocks", detail)
    texts: list[str] = []
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        _block(block, f"/blocks/{i}", texts, block_ids, in_view)
    markdown = sum(len(str(b.get("text") or "")) for b in blocks if b.get("type") == "markdown")
    if markdown > MARKDOWN_BLOCKS_LIMIT:
        raise BlockError("invalid_blocks", f"markdown blocks hold {markdown} characters, more than 12000")
    total = sum(len(t) for t in texts)
    if not in_view and total > text_limit:
        raise BlockError("msg_blocks_too_long", f"blocks hold {total} characters, more than {text_limit}")
    return total
