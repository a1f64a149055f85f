"""axe-core (static/vendor/axe-core/), served by the app's own static files and run in the
page under test: the accessibility check of the browser tests."""

from __future__ import annotations

from typing import Any

from django.conf import settings

# WCAG 2.2 AA, the level Alliance promises; "best-practice" rules are advice, not failures.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING_IMPACTS = frozenset({"serious", "critical"})
# axe files these under "needs review" because the id it checks is referenced from ARIA,
# yet the finding is certain: two fields with one id (a label then names the wrong field),
# or an aria-describedby that points at nothing.
CERTAIN_WHEN_INCOMPLETE = frozenset({"duplicate-id-aria", "aria-valid-attr-value"})

_RUN = """async (tags) => {
  const results = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  const summary = (finding) => ({
    id: finding.id,
    impact: finding.impact,
    help: finding.help,
    targets: finding.nodes.slice(0, 5).map((node) => node.target.join(" ")),
  });
  return {
    violations: results.violations.map(summary),
    incomplete: results.incomplete.map(summary),
  };
}"""


def axe_url(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/{settings.STATIC_URL.strip('/')}/vendor/axe-core/axe.min.js"


def blocking_violations(page: Any, base_url: str) -> list[str]:
    """The serious and critical WCAG violations on the page as it is now, one line each."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(url=axe_url(base_url))
    results = page.evaluate(_RUN, TAGS)
    findings = results["violations"] + [
        finding for finding in results["incomplete"] if finding["id"] in CERTAIN_WHEN_INCOMPLETE
    ]
    return [
        f"{finding['id']} ({finding['impact']}): {finding['help']} at "
        + "; ".join(finding["targets"])
        for finding in findings
        if finding["impact"] in BLOCKING_IMPACTS
    ]
