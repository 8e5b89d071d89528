"""The console at `/` in a real headless Chromium (Debian's `chromium`,
driven by Playwright for Python), against `pyloader serve` on loopback:
sign in, approve a recommendation, change a location's setting and see the
affected rows change without a reload, approve a filtered set at once,
acknowledge a conflict. A screenshot
of each step is written under the test's temporary folder.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.conftest import scalar
from tests.test_api import api_database, serving

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def console(template_db):
    with api_database(template_db, "console", ("acme",)) as (url, handles, toks), serving(url) as (base, _):
        yield base, handles["acme"], toks["acme/planner"]


@pytest.fixture
def page(console):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            pg = browser.new_page(viewport={"width": 1366, "height": 768})  # a laptop screen
            outside = []
            pg.on("request", lambda r: outside.append(r.url) if not r.url.startswith(console[0]) else None)
            yield pg
            assert outside == []  # nothing fetched from anywhere but the server
        finally:
            browser.close()


def test_a_planner_signs_in_decides_edits_a_location_and_acknowledges_a_conflict(console, page, tmp_path):
    base, acme, token = console
    with acme.connect() as conn:
        conn.execute("INSERT INTO conflicts (entity, entity_key, field, erp_value, ui_value, erp_updated_at)"
                     " VALUES ('location', 'L001', 'enabled', 'closed', 'true', now())")

    page.goto(base + "/")
    page.fill("#signin-client", "acme")
    page.fill("#signin-token", "mft_wrong")
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#signin-error")).not_to_be_empty()
    page.fill("#signin-token", token)
    page.click("#signin-form button[type=submit]")
    rows = page.locator("#rec-table tbody tr")
    expect(rows.first).to_be_visible()
    expect(page.locator("#live")).to_have_text("live")
    expect(page.locator("#freshness")).to_contain_text("queue 0")
    page.screenshot(path=tmp_path / "1-signed-in.png")

    # approve the first recommendation, at its recommended quantity
    first = rows.first
    product, location = first.locator("td").nth(0).inner_text(), first.locator("td").nth(1).inner_text()
    first.locator("button.approve").click()
    expect(page.locator(f"#rec-table tr[data-product='{product}'][data-location='{location}'] td.decision")).to_have_text(
        "approved (ann)")
    with acme.connect() as conn:
        assert conn.execute("SELECT decision, decided_by, approved_qty = recommended_qty FROM recommendations"
                            " WHERE product_id = %s AND location_id = %s", (product, location)).fetchone() == \
            ("approved", "ann", True)
    page.screenshot(path=tmp_path / "2-approved.png")

    # show location L002's recommendations, then disable L002 in the side panel
    page.fill("#rec-filters input[name=location_id]", "L002")
    page.click("#rec-filters button[type=submit]")
    expect(page.locator("#rec-table tbody tr td:nth-child(2)").first).to_have_text("L002")
    n_rows = page.locator("#rec-table tbody tr").count()
    assert n_rows > 0
    page.evaluate("window.notReloaded = true")
    row = page.locator("#entity-table tbody[data-id=L002]")
    row.locator("select").select_option("false")
    row.locator("button.save").click()
    expect(page.locator("#entity-table tbody[data-id=L002] td.eff")).to_have_text("false")
    reasons = page.locator("#rec-table tbody td.reason")
    for i in range(n_rows):  # every row updates in place, through /events
        expect(reasons.nth(i)).to_have_text("location_disabled", timeout=10_000)
    assert page.evaluate("window.notReloaded") is True
    with acme.connect() as conn:
        assert scalar(conn, "SELECT count(*) FROM recommendations WHERE location_id = 'L002'"
                            " AND reason <> 'location_disabled'") == 0
    page.screenshot(path=tmp_path / "3-location-disabled.png")

    # approve every recommendation of a filter at once (the page asks first)
    page.on("dialog", lambda d: d.accept())
    page.fill("#rec-filters input[name=location_id]", "L001")
    page.click("#rec-filters button[type=submit]")
    expect(page.locator("#rec-table tbody tr td:nth-child(2)").first).to_have_text("L001")
    page.click("#approve-all")
    expect(page.locator("#rec-message")).to_contain_text("Approved")
    decisions = page.locator("#rec-table tbody td.decision")
    assert decisions.count() > 0
    for i in range(decisions.count()):
        expect(decisions.nth(i)).to_have_text("approved (ann)")
    with acme.connect() as conn:
        assert scalar(conn, "SELECT count(*) FROM recommendations WHERE location_id = 'L001'"
                            " AND decision <> 'approved'") == 0
    page.screenshot(path=tmp_path / "4-filtered-set-approved.png")

    # acknowledge the conflict
    page.click("#tabs button[data-tab=conflicts]")
    ack = page.locator("#conflict-table button.acknowledge").first
    ack.click()
    expect(page.locator("#conflict-table td.ack").first).to_have_text("by ann")
    with acme.connect() as conn:
        assert scalar(conn, "SELECT count(*) FROM conflicts WHERE acknowledged_by = 'ann'") == 1
    page.screenshot(path=tmp_path / "5-conflict-acknowledged.png")
    for step in ("1-signed-in", "2-approved", "3-location-disabled", "4-filtered-set-approved",
                 "5-conflict-acknowledged"):
        assert (tmp_path / f"{step}.png").stat().st_size > 1000
