"""A feedback page, rendered by headless Chromium offline: it must show text
and its plots (the red bars of failed equivariance checks)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from conftest import grade

STUDENT, ASSIGNMENT = "bob_typical_bugs", "02_lifting_conv"
WIDTH, HEIGHT = 1200, 2000
FAILED_RED = (0xB3, 0x26, 0x1E)  # report.py's colour of a bar over tolerance

pytestmark = pytest.mark.slow


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    return None


@pytest.fixture(scope="module")
def page(copy_class, tmp_path_factory):
    out = tmp_path_factory.mktemp("screenshot") / "grades"
    run = grade(copy_class(STUDENT), out, "--assignment", ASSIGNMENT)
    assert run.returncode == 0, run.stderr[-2000:]
    return out / STUDENT / ASSIGNMENT / "feedback.html"


def screenshot(page, tmp_path):
    browser = chromium()
    if browser is None:
        if os.environ.get("GEDL_REQUIRE_CHROMIUM"):  # set by .ci/run
            pytest.fail("no Chromium found, and CI requires the screenshot test")
        pytest.skip("no Chromium found (.ci/run installs Debian's `chromium`)")
    png = tmp_path / "feedback.png"
    command = [
        browser,
        "--headless",
        "--no-sandbox",  # as root in CI; the page is our own file
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={png}",
        f"--window-size={WIDTH},{HEIGHT}",
        page.as_uri(),
    ]
    subprocess.run(command, capture_output=True, timeout=120, check=True)
    return png


def test_page_needs_nothing_from_the_network(page):
    text = page.read_text()
    for needle in ("<script", "<link", "src=", "@import", "url("):
        assert needle not in text


def test_screenshot_shows_the_page_and_its_plots(page, tmp_path):
    image_module = pytest.importorskip("matplotlib.image")
    png = screenshot(page, tmp_path)
    pixels = image_module.imread(png)[..., :3]  # [H, W, 3] floats in [0, 1]
    assert pixels.shape == (HEIGHT, WIDTH, 3)
    assert png.stat().st_size > 50_000
    assert pixels.std() > 0.05, "the screenshot is (nearly) uniform"
    ink = (pixels.max(axis=-1) < 0.5).mean()
    assert ink > 0.005, f"almost no dark (text) pixels: {ink:.4f}"
    red = ((pixels * 255 - FAILED_RED) ** 2).sum(-1) < 30**2
    assert red.sum() > 5_000, "no failed-equivariance bars are visible"
