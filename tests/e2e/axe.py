"""axe-core in the browser tests: inject it into a page (and its frames), run it, describe what it found."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

BLOCKING_IMPACTS = ("serious", "critical")


@cache
def axe_source() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


def axe_violations(page: Any, impacts: tuple[str, ...] = BLOCKING_IMPACTS) -> list[dict[str, Any]]:
    """The violations of the given impacts on the page as it is now, iframes included.

    axe checks an iframe's content only when axe is loaded inside that frame too (otherwise it waits for the frame to
    answer until it times out), so it goes into every frame before the run.
    """
    source = axe_source()
    for frame in page.frames:
        if frame.evaluate("typeof window.axe") == "undefined":
            frame.evaluate(source)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v.get("impact") in impacts]


def describe(violations: list[dict[str, Any]]) -> str:
    """One line a violation, then one a failing element: rule id, impact, help text, CSS targets and axe's summary."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"]:
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    {node['target']} {summary[:300]}")
    return "\n".join(lines)
