"""One way for every node to build its ``io.Schema``, whatever ComfyUI version it runs in."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from comfy_api.latest import io


def node_schema(search_aliases: Sequence[str] = (), **fields: Any) -> io.Schema:
    """``io.Schema(**fields)``, plus ``search_aliases`` where this ComfyUI's ``io.Schema`` has that field.

    Search aliases are the other words users type to find a node ("color match" for RecolorizeAny); newer ComfyUI
    versions list them in /object_info and their frontend's node search matches them. Older versions (0.3.75, the one
    the tests run) have no such field, and ``io.Schema`` raises TypeError on an unknown keyword, so the aliases are
    passed only when the dataclass declares them. Asking the dataclass, not comparing version numbers, also covers
    forks and backports.

    Example (inside a node)::

        return node_schema(node_id="ToMonochrome", display_name="To Monochrome (EEI)", inputs=[...], outputs=[...],
                           search_aliases=["grayscale", "desaturate"])
    """
    if "search_aliases" in {field.name for field in dataclasses.fields(io.Schema)}:
        fields["search_aliases"] = list(search_aliases)
    return io.Schema(**fields)
