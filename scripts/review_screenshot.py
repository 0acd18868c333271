"""A picture of the review page, as README shows it: Playwright drives Debian's Chromium
(no browser download) to a page of a running `watcher serve` and saves a PNG.

    watcher serve --listen 127.0.0.1:8464 &
    python scripts/review_screenshot.py http://127.0.0.1:8464/ docs/review-inbox.png [--width 1100]

Needs Chromium (Debian: ``chromium``) and Playwright for Python (the test extra).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from playwright.sync_api import sync_playwright


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("png", type=Path)
    parser.add_argument("--width", type=int, default=1100)
    parser.add_argument("--height", type=int, default=900)
    args = parser.parse_args()
    chromium = shutil.which("chromium")
    if chromium is None:
        parser.error("no chromium on this machine (Debian: apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": args.width, "height": args.height})
            page.goto(args.url)
            args.png.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.png), full_page=False)
        finally:
            browser.close()
    print(f"wrote {args.png} ({args.width}x{args.height} CSS pixels of {args.url})")


if __name__ == "__main__":
    main()
