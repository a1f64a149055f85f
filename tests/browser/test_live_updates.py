"""The parts of pages that htmx updates in place, in a real browser: the list searches narrow
as one types, the capacity queue follows its pool filter, and the executed agreements'
export shows its progress until its ZIP can be downloaded. Each keeps its address (a link
to the filtered list works) and none reloads the page."""

from __future__ import annotations

import io
import os
import zipfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.browser.conftest import CHROMIUM, Watched
from tests.conftest import World

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason="needs Debian's chromium (apt-get install chromium)"
    ),
]

NOT_RELOADED = "() => window.stillTheSamePage === true"


def mark_the_page(watched: Watched) -> None:
    """A flag that a reload would wipe: htmx swaps must leave it."""
    watched.page.evaluate("() => { window.stillTheSamePage = true; }")


def caption_count(watched: Watched, selector: str) -> int:
    return int(watched.page.inner_text(f"{selector} caption").split()[0])


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/consortia/", "Consortium A"),
        ("/organisations/", "Member Org"),
        ("/agreements/", "Model co-development agreement"),
    ],
)
def test_typing_in_a_list_search_narrows_it_in_place(
    watched: Watched, world: World, path: str, name: str
) -> None:
    from tests.agreements.conftest import make_deal

    make_deal(world)
    page = watched.page
    watched.sign_in("chair")
    page.goto(path)
    assert caption_count(watched, "#results") >= 1
    mark_the_page(watched)

    page.locator("#id_q").press_sequentially("no such name", delay=20)
    page.wait_for_function("() => document.querySelector('#results caption').innerText[0] === '0'")
    assert page.locator(f"#results a:has-text('{name}')").count() == 0

    page.fill("#id_q", name[:9])  # as a paste: no key is pressed
    page.wait_for_selector(f"#results a:has-text('{name}')")
    assert "q=" in page.url, "the filtered list has its own address"
    assert page.evaluate(NOT_RELOADED), "htmx swapped the results, the page did not reload"


def test_the_capacity_queue_follows_its_pool_filter(watched: Watched, world: World) -> None:
    from tests.compute.conftest import make_grid, request_gpus

    grid = make_grid(world)
    request = request_gpus(grid, gpus=4)
    page = watched.page
    watched.sign_in("technician")
    page.goto(f"/compute/consortia/{world.consortium_a.pk}/requests/")
    assert page.locator(f"#queue a[href='/compute/requests/{request.pk}/']").count() == 1
    mark_the_page(watched)

    page.select_option("#queue-pool", str(grid.pool.pk))
    page.wait_for_url(f"**pool={grid.pool.pk}**")
    page.wait_for_selector(f"#queue a[href='/compute/requests/{request.pk}/']")
    assert page.evaluate(NOT_RELOADED)


def signed_in_a_thread(deal: Any, capture: Any) -> None:
    from django.db import connection

    from tests.agreements.signing_helpers import sign_all

    try:
        sign_all(deal, capture)
    finally:
        connection.close()


def test_the_agreements_export_shows_its_progress_then_its_zip(
    watched: Watched,
    world: World,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from agreements import exports, tasks
    from tests.agreements.conftest import make_deal
    from tests.agreements.signing_helpers import send_for_signature

    deal = make_deal(world)
    send_for_signature(deal)
    # pyHanko seals in asyncio.run(), which cannot start inside Playwright's own loop.
    with ThreadPoolExecutor(max_workers=1) as executor:
        executor.submit(signed_in_a_thread, deal, django_capture_on_commit_callbacks).result()
    # A worker that has not reached the export yet: the page must show it waiting, then
    # follow it to the end on its own once the export runs.
    queued: list[int] = []
    monkeypatch.setattr(tasks.agreements_export_run, "delay", queued.append)

    page = watched.page
    watched.sign_in("chair")
    page.goto(f"/consortia/{world.consortium_a.pk}/")
    page.click("button:has-text('Export executed agreements (ZIP)')")
    page.wait_for_selector("text=The export is being prepared")
    assert page.inner_text("#export-status [role=status]") == "Pending"
    assert "0 of 0 signed PDFs" in page.inner_text("#export-status")
    mark_the_page(watched)

    assert exports.export_run(export_id=queued[0])
    page.wait_for_selector("#export-status a:has-text('Download the ZIP')")
    assert page.evaluate(NOT_RELOADED), "the status polled itself in place"
    assert page.inner_text("#export-status [role=status]") == "Done"
    assert "1 of 1 signed PDFs" in page.inner_text("#export-status")

    with page.expect_download() as download:
        page.click("#export-status a:has-text('Download the ZIP')")
    with zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes())) as archive:
        names = archive.namelist()
    assert sum(name.endswith(".pdf") for name in names) == 1, names
