#!/usr/bin/env python3
"""Reads the built books in headless Chromium, as a reader would, and checks each page.

Usage: python3 .ci/book-browser.py [--self-test] [BUILD_DIR [SCREENSHOTS_DIR]]
(default book/build and target/book-screenshots; .ci/book builds the books and runs this).
--self-test also checks a damaged copy of the books, and fails unless each damage is
reported.

For every page of both books (book/build/en and book/build/zh): it renders (a title and a
heading), every picture has loaded (natural width > 0), every link inside the book points
at a file that exists, and each code block that the page's source fills with
`{{#include FILE}}` shows that file byte for byte. A screenshot of each page is saved.

Chromium is driven through chromedriver's WebDriver protocol (JSON over HTTP), with only
the standard library. Exit status: 0 when every page passes; 1 when one does not; 2 when
chromium or chromedriver is missing or does not start.
"""

import json
import base64
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOKS = ["en", "zh"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Driver:
    """A chromedriver process and one headless Chromium session."""

    def __init__(self):
        if shutil.which("chromedriver") is None:
            raise RuntimeError(
                "chromedriver is not installed; on Debian: apt-get install chromium chromium-driver"
            )
        self.port = free_port()
        self.process = subprocess.Popen(
            ["chromedriver", f"--port={self.port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                self.call("GET", "/status")
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    self.process.kill()
                    raise RuntimeError("chromedriver did not answer within 20 s")
                time.sleep(0.1)
        options = {
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,1600"]
        }
        caps = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": options}}}
        self.session = self.call("POST", "/session", caps)["sessionId"]

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)["value"]

    def visit(self, url):
        self.call("POST", f"/session/{self.session}/url", {"url": url})

    def run(self, script):
        return self.call("POST", f"/session/{self.session}/execute/sync", {"script": script, "args": []})

    def screenshot(self, path):
        png = self.call("GET", f"/session/{self.session}/screenshot")
        path.write_bytes(base64.b64decode(png))

    def close(self):
        try:
            self.call("DELETE", f"/session/{self.session}")
        finally:
            self.process.kill()
            self.process.wait(timeout=10)


# What a page shows, read in the browser once it has loaded (and its pictures with it).
PAGE = """
const main = document.querySelector('main');
const images = [...main.querySelectorAll('img')];
return {
  title: document.title,
  heading: main.querySelector('h1') ? main.querySelector('h1').textContent : '',
  images: images.map(i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0]),
  links: [...main.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
  code: [...main.querySelectorAll('pre > code')].map(c => c.textContent),
};
"""


def includes(source):
    """The files a page's source includes, in order, each the content of one code block."""
    return re.findall(r"\{\{#include ([^}]+)\}\}", source)


def code_blocks(source):
    """How many fenced code blocks the page's source has before each include, so that the
    nth rendered block can be matched with its include."""
    blocks = []
    count = 0
    for line in source.splitlines():
        if line.startswith("```") and line.strip() != "```":
            count += 1
        match = re.search(r"\{\{#include ([^}]+)\}\}", line)
        if match:
            blocks.append((count - 1, match.group(1)))
    return blocks


def check_page(driver, build, book, page, shots):
    problems = []
    html = build / book / page
    source = ROOT / "book" / book / "src" / Path(page).with_suffix(".md")
    driver.visit(html.as_uri())
    shown = None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        shown = driver.run(PAGE)
        if all(ok for _, ok in shown["images"]):
            break
        time.sleep(0.2)
    where = f"{book}/{page}"
    if not shown["title"] or not shown["heading"].strip():
        problems.append(f"{where}: no title or heading rendered")
    for src, ok in shown["images"]:
        if not ok:
            problems.append(f"{where}: the picture {src} did not load")
    for href in shown["links"]:
        target = href.split("#")[0]
        if not target or "://" in target or target.startswith("mailto:"):
            continue
        if not (html.parent / target).resolve().exists():
            problems.append(f"{where}: the link {href} leads nowhere")
    text = source.read_text(encoding="utf-8")
    for index, include in code_blocks(text):
        file = (source.parent / include).resolve()
        want = file.read_text(encoding="utf-8").rstrip("\n")
        if index >= len(shown["code"]):
            problems.append(f"{where}: no code block shows {include}")
        elif shown["code"][index].rstrip("\n") != want:
            problems.append(f"{where}: the code block for {include} is not that file byte for byte")
    shots.mkdir(parents=True, exist_ok=True)
    driver.screenshot(shots / f"{book}-{page.replace('/', '-')}.png")
    return problems


def pages(build, book):
    """Every chapter page of a built book, as mdBook lists them in its table of contents."""
    toc = (build / book / "toc.html").read_text(encoding="utf-8")
    found = []
    for href in re.findall(r'href="([^"#]+\.html)"', toc):
        if href not in found:
            found.append(href)
    return found


def check_all(driver, build, shots):
    """Every page of both books in `build`: the problems found, and how many pages."""
    problems = []
    checked = 0
    for book in BOOKS:
        listed = pages(build, book)
        if len(listed) < 2:
            problems.append(f"{book}: toc.html lists {len(listed)} pages")
        for page in listed:
            problems.extend(check_page(driver, build, book, page, shots))
            checked += 1
    return problems, checked


def self_test(driver, build, scratch):
    """The checks fail on a damaged copy of the books: a picture gone, a code block that is
    not its file, a link to a page that does not exist. The problems they did not report."""
    damaged = scratch / "build"
    shutil.rmtree(damaged, ignore_errors=True)
    shutil.copytree(build, damaged, symlinks=False)
    (damaged / "en" / "timeline" / "lock_counter.svg").unlink()
    page = damaged / "zh" / "threading" / "synchronisation.html"
    page.write_text(page.read_text(encoding="utf-8").replace("Final counter value", "Final count", 1))
    page = damaged / "en" / "threading" / "basics.html"
    text = page.read_text(encoding="utf-8")
    page.write_text(text.replace("../../zh/threading/basics.html", "../../zh/threading/gone.html"))
    problems, _ = check_all(driver, damaged, scratch / "shots")
    shutil.rmtree(scratch, ignore_errors=True)
    wanted = [
        "en/threading/synchronisation.html: the picture ../timeline/lock_counter.svg did not load",
        "zh/threading/synchronisation.html: the code block for ../../../../multithread/src/bin/lock_counter.rs",
        "en/threading/basics.html: the link ../../zh/threading/gone.html leads nowhere",
    ]
    return [w for w in wanted if not any(p.startswith(w) for p in problems)]


def main():
    args = [a for a in sys.argv[1:] if a != "--self-test"]
    build = Path(args[0]) if args else ROOT / "book" / "build"
    shots = Path(args[1]) if len(args) > 1 else ROOT / "target" / "book-screenshots"
    try:
        driver = Driver()
    except (RuntimeError, OSError) as e:
        print(f"book-browser: cannot start Chromium: {e}", file=sys.stderr)
        return 2
    try:
        problems, checked = check_all(driver, build, shots)
        missed = []
        if "--self-test" in sys.argv:
            missed = self_test(driver, build, Path(tempfile.mkdtemp(prefix="book-browser-")))
    finally:
        driver.close()
    for problem in problems:
        print(f"book-browser: {problem}", file=sys.stderr)
    for miss in missed:
        print(f"book-browser: self-test: a damaged copy did not report: {miss}", file=sys.stderr)
    if problems or missed:
        return 1
    tested = " (and the self-test's damaged copy failed as it should)" if "--self-test" in sys.argv else ""
    print(f"book-browser: {checked} pages rendered and checked in Chromium{tested}; screenshots in {shots}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
