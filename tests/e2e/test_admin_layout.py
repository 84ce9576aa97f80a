"""In Chromium at 1280 and 1920 px: the admin pages operators read fit, nothing squeezed.

Renders the admin index, the operations page (with a scored track record, so
the trend chart and figures are drawn), a version page and every mlops list, and
asserts on each: no box holding text is narrower than 40 px, nothing reaches
past the right edge, the page does not scroll sideways and no text overflows
its box. Set E2E_SCREENSHOT_DIR to keep screenshots (not taken otherwise).
"""

import os
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from draws.models import LottoDraw, expected_draw_date
from draws.services import draw_import_file
from mlops.models import Prediction
from tests.e2e.test_admin_browser import CHROMIUM, browser_page, e2e_settings
from tests.factories import train

__all__ = ["browser_page", "e2e_settings"]  # fixtures used by name below

WIDTHS = (1280, 1920)
MIN_TEXT_BOX_PX = 40

# For every visible text: the box that lays it out (its nearest non-inline
# ancestor) must be at least MIN px wide, end inside the viewport and hold its
# text without overflowing (sideways or below); and the page must not scroll
# horizontally.
LAYOUT_PROBLEMS = """
(min) => {
  const problems = [];
  const root = document.documentElement;
  const viewport = root.clientWidth;
  if (root.scrollWidth > viewport + 1) {
    problems.push(`page is ${root.scrollWidth}px wide in a ${viewport}px window`);
  }
  const describe = (el) => {
    const id = el.id ? `#${el.id}` : "";
    const cls = el.className && typeof el.className === "string"
      ? "." + el.className.trim().split(/\\s+/).join(".") : "";
    return `<${el.tagName.toLowerCase()}${id}${cls}>`;
  };
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent.trim();
    if (!/[\\p{L}\\p{N}]/u.test(text)) continue;
    let box = walker.currentNode.parentElement;
    while (box && getComputedStyle(box).display === "inline") box = box.parentElement;
    if (!box || seen.has(box)) continue;
    seen.add(box);
    if (box.closest("svg")) continue;  // the chart is checked as one box
    const style = getComputedStyle(box);
    const rect = box.getBoundingClientRect();
    if (!box.getClientRects().length || style.visibility === "hidden") continue;
    // Text for screen readers only (admin's .visually-hidden: clipped to 1px).
    if (style.clip !== "auto" || style.clipPath !== "none") continue;
    if (rect.right < 0 || rect.bottom < 0) continue;  // parked off-screen (skip link)
    const what = `${describe(box)} "${text.slice(0, 30)}"`;
    if (rect.width < min) problems.push(`${what} is ${rect.width.toFixed(1)}px wide`);
    if (rect.right > viewport + 1) {
      problems.push(`${what} ends at ${rect.right.toFixed(0)}px of ${viewport}px`);
    }
    const clips = ["hidden", "clip", "auto", "scroll"].includes(style.overflowX);
    if (!clips && box.scrollWidth > box.clientWidth + 1 && box.clientWidth > 0) {
      problems.push(`${what} overflows: ${box.scrollWidth}px in ${box.clientWidth}px`);
    }
    // Cut off by a box that scrolls or clips sideways (a table wider than its
    // .results wrapper): the page fits, but the text is out of sight.
    for (let up = box.parentElement; up && up !== document.body; up = up.parentElement) {
      const upStyle = getComputedStyle(up);
      if (upStyle.clip !== "auto" || upStyle.clipPath !== "none") break;  // for readers
      if (["hidden", "clip", "auto", "scroll"].includes(upStyle.overflowX)) {
        const edge = up.getBoundingClientRect().right;
        if (rect.right > edge + 1) {
          problems.push(`${what} is cut off by ${describe(up)} at ${edge.toFixed(0)}px`);
        }
        break;
      }
    }
    const clipsY = ["hidden", "clip", "auto", "scroll"].includes(style.overflowY);
    if (!clipsY && box.scrollHeight > box.clientHeight + 1 && box.clientHeight > 0) {
      problems.push(`${what} spills below: ${box.scrollHeight}px in ${box.clientHeight}px`);
    }
  }
  for (const svg of document.querySelectorAll("svg#accuracy-trend")) {
    const rect = svg.getBoundingClientRect();
    if (rect.right > viewport + 1) problems.push(`the chart ends at ${rect.right}px`);
  }
  return problems;
}
"""


def a_scored_track_record():
    """1,170 real draws, two versions, 50 ML forecasts scored by the last 50 draws."""
    draw_import_file(django_settings.DRAWS_SHIPPED_CSV)
    LottoDraw.objects.filter(draw_no__gt=1170).delete()
    train(1, activate=True)
    active = train(2, activate=True)
    rng = np.random.default_rng(7)
    # Activation already recorded the forecast for draw 1171.
    recorded = set(Prediction.objects.values_list("target_draw_no", flat=True))
    for draw_no in sorted(set(range(1171, 1221)) - recorded):
        Prediction.objects.create(
            target_draw_no=draw_no,
            target_draw_date=expected_draw_date(draw_no),
            mode=Prediction.Mode.ML,
            model_version=active,
            forecaster=active.version,
            probabilities=[1 / 45] * 45,
            top_numbers=sorted((rng.choice(45, 6, replace=False) + 1).tolist()),
        )
    draw_import_file(django_settings.DRAWS_SHIPPED_CSV)  # scores them on import
    assert Prediction.objects.filter(scored_at__isnull=False).count() >= 50
    return active


@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
@pytest.mark.django_db(transaction=True)
def test_the_admin_pages_fit_at_1280_and_1920_pixels(
    live_server, model_root, e2e_settings, browser_page, django_user_model
):
    e2e_settings.ML_N_ESTIMATORS = 4
    version = a_scored_track_record()
    django_user_model.objects.create_superuser("root", password="correct horse 9")
    pages = {
        "index": reverse("admin:index"),
        "operations": reverse("operations_dashboard"),
        "version": reverse("admin:mlops_modelversion_change", args=[version.pk]),
        "retrain_confirmation": reverse("admin:mlops_retrainrun_retrain"),
        "rollback_confirmation": reverse("admin:mlops_modelversion_rollback"),
    }
    for model in (
        "modelversion",
        "retrainrun",
        "prediction",
        "auditevent",
        "modelactivation",
        "modelbackup",
    ):
        pages[f"{model}_list"] = reverse(f"admin:mlops_{model}_changelist")
    # One server, one browser, one login; one context per width sharing the
    # login's cookies, each page loaded once per width. Screenshots only on
    # request: they cost more than the checks.
    shots = os.environ.get("E2E_SCREENSHOT_DIR")
    login = browser_page
    login.goto(f"{live_server.url}/admin/login/")
    login.fill("#id_username", "root")
    login.fill("#id_password", "correct horse 9")
    login.click("input[type=submit]")
    login.wait_for_url(f"{live_server.url}/admin/")
    signed_in = login.context.storage_state()

    problems = {}
    for width in WIDTHS:
        context = login.context.browser.new_context(
            viewport={"width": width, "height": 900}, storage_state=signed_in
        )
        page = context.new_page()
        for name, url in pages.items():
            page.goto(f"{live_server.url}{url}")
            if shots:
                Path(shots).mkdir(parents=True, exist_ok=True)
                page.screenshot(path=f"{shots}/{name}_{width}.png", full_page=True)
            if found := page.evaluate(LAYOUT_PROBLEMS, MIN_TEXT_BOX_PX):
                problems[f"{name} at {width}px"] = sorted(set(found))[:12]
        context.close()
    report = "\n".join(f"{where}: {p}" for where, ps in problems.items() for p in ps)
    assert not problems, report
    # The operations page drew what it was given: the chart and the figures.
    page = login
    page.goto(f"{live_server.url}{pages['operations']}")
    assert page.locator("svg#accuracy-trend circle").count() > 0
    assert page.locator("#monitor-figures tbody tr").count() == 4
    # And the check sees a squeezed box and a page wider than the window.
    page.set_content(
        '<p style="width:10px">squeezed</p><div style="width:3000px">x</div>'
    )
    assert len(page.evaluate(LAYOUT_PROBLEMS, MIN_TEXT_BOX_PX)) >= 3
