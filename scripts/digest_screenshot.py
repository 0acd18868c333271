"""Look at a digest as a phone shows it: headless Chromium renders the HTML to a PNG.

    watcher digest --preview digest.html
    python scripts/digest_screenshot.py digest.html digest.png [--width 390]

Prints the picture's size and how much of it is ink, so a blank or broken render is
seen at once; open the PNG to judge the layout. Needs Chromium (Debian: ``chromium``,
which ``.ci/run`` installs) and Pillow (the test extra).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

PHONE_WIDTH = 390  # CSS pixels: an iPhone 12 to 15; most phones are 360 to 430
_BROWSERS = ("chromium", "chromium-browser", "google-chrome")


@dataclass(frozen=True)
class Shot:
    width: int
    height: int
    ink: float  # share of pixels that are neither the column's nor the page's background
    content_height: int  # rows down to the last one with ink
    colours: int  # distinct colours (text, links, rules, headings)


def find_browser() -> str | None:
    return next((path for name in _BROWSERS if (path := shutil.which(name))), None)


def screenshot(html: Path, png: Path, *, width: int = PHONE_WIDTH, height: int = 5000) -> Shot:
    """Render ``html`` at ``width`` CSS pixels, twice as dense as that (a phone's
    screen), tall enough for a day's digest; raise if Chromium fails."""
    browser = find_browser()
    if browser is None:
        raise FileNotFoundError("no Chromium found (Debian: apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="watcher-chromium-") as profile:
        command = [
            browser,
            "--headless",
            "--no-sandbox",  # CI runs as root, where the sandbox cannot start
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--force-device-scale-factor=2",
            f"--window-size={width},{height}",
            f"--screenshot={png.resolve()}",
            html.resolve().as_uri(),
        ]
        subprocess.run(command, check=True, capture_output=True, timeout=120)
    return measure(png)


def measure(png: Path) -> Shot:
    with Image.open(png) as image:
        pixels = np.asarray(image.convert("RGB"))
    height, width, _ = pixels.shape
    column = pixels[2, width // 2]  # the top margin, inside the column
    page = pixels[-1, 0]  # below the column, where the window is taller than the digest
    inked = (pixels != column).any(axis=2) & (pixels != page).any(axis=2)
    rows = np.flatnonzero(inked.any(axis=1))
    colours = len(np.unique(pixels.reshape(-1, 3), axis=0))
    last_row = int(rows[-1]) + 1 if len(rows) else 0
    return Shot(width, height, float(inked.mean()), last_row, colours)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("html", type=Path)
    parser.add_argument("png", type=Path)
    parser.add_argument("--width", type=int, default=PHONE_WIDTH)
    parser.add_argument("--height", type=int, default=5000, help="CSS pixels of window")
    args = parser.parse_args()
    shot = screenshot(args.html, args.png, width=args.width, height=args.height)
    print(f"{args.png}: {shot.width}x{shot.height} px (device pixels, 2x)")
    print(f"content down to row {shot.content_height}; ink {shot.ink:.1%}; {shot.colours} colours")
    if shot.content_height >= shot.height:
        print("the digest runs past the window's bottom: give a larger --height")


if __name__ == "__main__":
    main()
