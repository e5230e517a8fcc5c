"""The HTML assessment report as people get it: through a real HTML parser, and in a real browser
(headless Chromium from Debian's packages) that renders the retailer's report to a PNG and a PDF.

The browser tests need `chromium` on PATH (or $CHROMIUM). `make test` installs it (make deps-browser)
and sets TWOSPEED_REQUIRE_BROWSER=1, so there they fail rather than skip when it is missing.
"""
import copy
import html.parser
import json
import os
import re
import shutil
import struct
import subprocess
import zlib

import pytest

from conftest import ROOT, Engine, retailer

EXAMPLES = {"retailer": "retailer", "bank": "state-bank", "telco": "telco"}
SECTIONS = ["summary", "recommendations", "pitfalls", "coverage", "speed", "experiments", "prioritization",
            "okrs", "accountability", "criteria"]
# Everything the report writes; anything else in a page is data that became markup.
KNOWN_TAGS = {"html", "head", "meta", "title", "style", "body", "main", "header", "footer", "nav", "section",
              "article", "aside", "figure", "figcaption", "h1", "h2", "h3", "p", "div", "span", "small", "strong",
              "code", "a", "br", "table", "thead", "tbody", "tfoot", "tr", "th", "td", "ul", "li", "svg", "desc",
              "g", "polygon", "polyline", "line", "circle", "rect", "text", "tspan"}
VOID = {"meta", "br"}

HOSTILE = {
    "organization": "<script>alert(1)</script>",
    "product": '"quoted" & <b>',
    "manager": "a|b\nc",
    "other manager": "</td></tr><img src=x onerror=alert(2)>",
    "system": "ERP</span><script>alert(3)</script>",
    "stage": "*bold* [link](javascript:alert(4)) `code`",
    "web": "Web' onmouseover='alert(5)",
}


class Page(html.parser.HTMLParser):
    """Collects the elements, attributes and text of a page, and checks that elements nest."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tags, self.attributes, self.text, self.stack, self.problems = [], [], [], [], []
        self.in_title = False
        self.title = ""
        self.feed(text)
        self.close()
        self.problems += ["<%s> not closed" % t for t in self.stack]

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += attrs
        if tag == "title" and "svg" not in self.stack:
            self.in_title = True
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += attrs

    def handle_endtag(self, tag):
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()
        else:
            self.problems.append("</%s> closes <%s>" % (tag, self.stack[-1] if self.stack else "nothing"))
        if tag == "title":
            self.in_title = False

    def handle_data(self, data):
        self.text.append(data)
        if self.in_title:
            self.title += data


def rendered(engine, fmt, **params):
    result = engine.call("report.render", dict(format=fmt, **params))
    return result["content"], result["mediaType"]


def hostile_retailer():
    doc = copy.deepcopy(retailer())
    doc["organization"]["name"] = HOSTILE["organization"]
    names = {("products", "checkout"): HOSTILE["product"], ("managers", "pm-checkout"): HOSTILE["manager"],
             ("managers", "am-payments"): HOSTILE["other manager"], ("systems", "erp"): HOSTILE["system"],
             ("systems", "web-checkout"): HOSTILE["web"]}
    for (kind, ident), name in names.items():
        next(e for e in doc[kind] if e["id"] == ident)["name"] = name
    next(s for s in doc["journeys"][0]["stages"] if s["id"] == "checkout")["name"] = HOSTILE["stage"]
    return doc


# --- the HTML parser's view ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_html_report_of_each_example_parses(engine, name):
    with open(os.path.join(ROOT, "examples", "portfolios", name + ".json"), encoding="utf-8") as f:
        engine.call("portfolio.put", {"portfolio": json.load(f)})
    result = engine.call("assessment.run", {"portfolio": EXAMPLES[name]})
    content, media = rendered(engine, "html", result=result)
    assert media == "text/html; charset=utf-8"
    page = Page(content)
    assert page.problems == []
    assert set(page.tags) <= KNOWN_TAGS, set(page.tags) - KNOWN_TAGS
    ids = [v for k, v in page.attributes if k == "id"]
    assert [i for i in ids if i in SECTIONS] == SECTIONS
    assert page.title == result["organization"] + ": two-speed operating model assessment"
    text = "".join(page.text)
    for d in result["dimensions"]:
        assert d["name"] in text
    for p in result["pitfalls"]:
        assert p["name"] in text
        for s in p["subjects"]:
            assert s["name"] in text
    for r in result["recommendations"]:
        assert r["title"] in text
    # Nothing from elsewhere: no script, stylesheet, image or font to fetch.
    assert not [v for k, v in page.attributes if k in ("src", "href") and not (v or "").startswith("#")]
    assert "script" not in page.tags and "link" not in page.tags and "img" not in page.tags


def test_hostile_names_stay_text(engine):
    engine.call("portfolio.put", {"portfolio": hostile_retailer()})
    engine.call("assessment.run", {"portfolio": "retailer"})
    content, _ = rendered(engine, "html", portfolio="retailer")
    page = Page(content)
    assert page.problems == []
    assert set(page.tags) <= KNOWN_TAGS, set(page.tags) - KNOWN_TAGS
    assert not [k for k, _ in page.attributes if k.startswith("on")], "no event handler came in"
    text = "".join(page.text)
    for name in HOSTILE.values():
        assert name in text, name
    assert page.title == HOSTILE["organization"] + ": two-speed operating model assessment"

    md, media = rendered(engine, "markdown", portfolio="retailer")
    assert media == "text/markdown; charset=utf-8"
    for raw in ("<script", "<b>", "<img", "[link]("):
        assert raw not in md
    row = next(line for line in md.splitlines() if line.startswith("| a\\|b c | "))
    assert len(re.split(r"(?<!\\)\|", row)) - 2 == 5, row


def test_control_characters_in_names_never_reach_a_text_report(engine):
    """Through the C ABI: ESC[2J (clear the screen), a lone CR and BEL in names come back escaped in the
    text report and in none of the three formats raw; the near miss, a plain name, comes back as it is."""
    doc = copy.deepcopy(retailer())
    doc["organization"]["name"] = "Bright\x1b[2Jmart\rEvil\x07"
    next(e for e in doc["products"] if e["id"] == "store-locator")["name"] = "Check\x1b[2Jout\rX"
    engine.call("portfolio.put", {"portfolio": doc})
    engine.call("assessment.run", {"portfolio": "retailer"})
    for fmt in ("text", "markdown", "html"):
        content, _ = rendered(engine, fmt, portfolio="retailer")
        raw = [c for c in content if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F]
        assert raw == [], (fmt, raw)
    text, _ = rendered(engine, "text", portfolio="retailer")
    assert text.startswith("Bright\\e[2Jmart\\rEvil\\u{7}: two-speed"), text[:80]
    assert "Check\\e[2Jout\\rX" in text
    engine.call("portfolio.put", {"portfolio": retailer()})
    engine.call("assessment.run", {"portfolio": "retailer"})
    plain, _ = rendered(engine, "text", portfolio="retailer")
    assert plain.startswith("Brightmart Retail: two-speed")


# --- the browser's view ----------------------------------------------------------------------------------

def chromium_path():
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def chromium(tmp_path):
    path = chromium_path()
    if not path:
        message = "chromium is not installed (make deps-browser installs it)"
        if os.environ.get("TWOSPEED_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)

    def run(url, *args):
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        cmd = [path, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
               "--disable-extensions", "--hide-scrollbars", "--user-data-dir=" + str(tmp_path / "profile")]
        done = subprocess.run(cmd + list(args) + [url], capture_output=True, timeout=180,
                              env=dict(os.environ, HOME=str(tmp_path)))
        assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
        return done.stdout
    return run


def read_png(path):
    """(width, height, channels, rows) of an 8-bit, non-interlaced PNG, with the standard library only."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    width, height, depth, color, _, _, interlace = ihdr
    assert depth == 8 and interlace == 0, (depth, interlace)
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color]
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    rows, prev = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        line = bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev))
        elif kind == 3:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - channels] if i >= channels else 0
                b, c = prev[i], (prev[i - channels] if i >= channels else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(line)
        prev = line
    return width, height, channels, rows


def near(pixel, colour, tolerance):
    return all(abs(p - c) <= tolerance for p, c in zip(pixel, colour))


@pytest.fixture
def retailer_report(engine, tmp_path):
    """The retailer's HTML report after two kept runs (IT's objective joins the shared one in between)."""
    engine.call("portfolio.put", {"portfolio": retailer()})
    engine.call("assessment.run", {"portfolio": "retailer"})
    engine.call("entity.upsert", {"portfolio": "retailer", "kind": "okr", "entity": {
        "id": "okr-it-cost", "objective": "Cut IT run costs by 10%", "departments": ["it"], "parent": "okr-online-growth"}})
    engine.call("assessment.run", {"portfolio": "retailer"})
    content, _ = rendered(engine, "html", portfolio="retailer")
    path = tmp_path / "retailer-report.html"
    path.write_text(content, encoding="utf-8")
    return path


def test_chromium_renders_the_retailer_report(chromium, retailer_report, tmp_path):
    png = tmp_path / "retailer-report.png"
    chromium(retailer_report.as_uri(), "--screenshot=" + str(png), "--window-size=1280,2000")
    width, height, channels, rows = read_png(png)
    assert (width, height) == (1280, 2000)

    # Not blank: many colours, and ink on a fair share of the page but not all of it.
    colours, inked = set(), 0
    left, right, bottom = width, 0, 0
    for y in range(0, height, 2):
        row = rows[y]
        for x in range(0, width, 2):
            px = tuple(row[x * channels:x * channels + 3])
            colours.add(px)
            if min(px) < 235:
                inked += 1
                left, right, bottom = min(left, x), max(right, x), max(bottom, y)
    share = inked / ((width // 2) * (height // 2))
    assert len(colours) > 200, len(colours)
    assert 0.03 < share < 0.6, share
    # Laid out at a sensible size: the content spans the 1280-pixel window (not a narrow strip, not
    # zoomed past it) and runs on past the first 2000 pixels.
    assert left < 140 and right > 1100, (left, right)
    assert bottom > 1900, bottom

    # The radar: its fill (the series colour at 22% over white) covers a large, roughly round area in
    # the middle of the page, under the header, and the previous run's dashed outline is drawn in it.
    fill = (199, 224, 238)
    xs, ys = [], []
    for y in range(0, height, 2):
        row = rows[y]
        for x in range(0, width, 2):
            if near(row[x * channels:x * channels + 3], fill, 6):
                xs.append(x)
                ys.append(y)
    assert len(xs) * 4 > 20000, len(xs) * 4
    # The box of the rows and columns where the fill is dense (a few anti-aliased pixels elsewhere match too).
    by_x, by_y = {}, {}
    for x, y in zip(xs, ys):
        by_x[x] = by_x.get(x, 0) + 1
        by_y[y] = by_y.get(y, 0) + 1
    dense_x = [x for x, n in by_x.items() if n >= 15]
    dense_y = [y for y, n in by_y.items() if n >= 15]
    box = (min(dense_x), min(dense_y), max(dense_x), max(dense_y))
    assert 200 < box[2] - box[0] < 600 and 200 < box[3] - box[1] < 600, box
    assert 400 < (box[0] + box[2]) / 2 < 880, box
    assert 250 < box[1] < 1200, box
    outline = sum(1 for y in range(box[1], box[3] + 1) for x in range(box[0], box[2] + 1)
                  if near(rows[y][x * channels:x * channels + 3], (213, 94, 0), 40))
    assert outline > 30, outline

    # The DOM Chromium built: the radar is an SVG element with both polygons, not text.
    dom = chromium(retailer_report.as_uri(), "--dump-dom").decode("utf-8")
    radar = re.search(r'<svg class="chart radar".*?</svg>', dom, re.S)
    assert radar, "no radar in the rendered DOM"
    assert len(re.findall(r'<polygon class="series (current|previous)"', radar.group(0))) == 2
    assert len(re.findall(r'<circle class="dot', radar.group(0))) == 10


def test_chromium_prints_the_report(chromium, retailer_report, tmp_path):
    pdf = tmp_path / "retailer-report.pdf"
    chromium(retailer_report.as_uri(), "--print-to-pdf=" + str(pdf), "--no-pdf-header-footer")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    # A page for the summary and one at least for each of the nine sections after it.
    assert 10 <= pages <= 60, pages


def test_chromium_shows_hostile_names_as_text(chromium, engine, tmp_path):
    engine.call("portfolio.put", {"portfolio": hostile_retailer()})
    content, _ = rendered(engine, "html", portfolio="retailer")
    path = tmp_path / "hostile.html"
    path.write_text(content, encoding="utf-8")
    dom = Page(chromium(path.as_uri(), "--dump-dom").decode("utf-8"))
    assert set(dom.tags) <= KNOWN_TAGS, set(dom.tags) - KNOWN_TAGS
    assert "script" not in dom.tags and "img" not in dom.tags
    assert not [k for k, _ in dom.attributes if k.startswith("on")]
    text = "".join(dom.text)
    for name in HOSTILE.values():
        assert name in text, name
    assert "polygon" in dom.tags


# --- the trend of every kept run ------------------------------------------------------------------------

def kept_runs(engine, n):
    """The retailer with n kept runs, its culture answer changing from run to run."""
    engine.call("portfolio.put", {"portfolio": retailer()})
    results = []
    for i in range(n):
        results.append(engine.call("assessment.run", {"portfolio": "retailer", "answers": [
            {"criterion": "culture.outcomes", "score": 1 + i % 5, "evidence": "run %d" % (i + 1)}]}))
    return results


def test_html_trend_charts_every_kept_run(engine):
    import xml.etree.ElementTree as ET
    runs = kept_runs(engine, 3)
    content, _ = rendered(engine, "html", portfolio="retailer")
    page = Page(content)
    assert page.problems == [] and set(page.tags) <= KNOWN_TAGS, set(page.tags) - KNOWN_TAGS
    ids = [v for k, v in page.attributes if k == "id"]
    assert ids.index("summary") < ids.index("trend") < ids.index("recommendations")
    assert 'href="#trend"' in content
    svg = re.search(r'<svg class="chart trend".*?</svg>', content, re.S).group(0)
    root = ET.fromstring(svg)                       # well-formed on its own
    series = [g for g in root.iter("g") if g.get("class") == "series"]
    assert len(series) == len(runs[0]["dimensions"]) + 1            # every dimension and the overall
    overall = series[-1]
    assert overall.get("stroke") == "#000000"
    points = overall.find("polyline").get("points").split()
    assert len(points) == 3
    # Higher scores sit higher (smaller y): the overall line follows the runs' overall scores.
    ys = [float(p.split(",")[1]) for p in points]
    scores = [r["overall"]["score"] for r in runs]
    assert sorted(range(3), key=lambda i: ys[i]) == sorted(range(3), key=lambda i: -scores[i]) or len(set(scores)) < 3
    culture = next(g for g in series if "Culture" in "".join(t.text or "" for t in g.iter("title")))
    assert len(culture.find("polyline").get("points").split()) == 3
    for r in runs:
        assert "run %d" % r["run"] in svg
    assert "<script" not in content
    # The table beside the chart: a column per run, a row per line, the overall first.
    table = re.search(r'<table class="trend-table">.*?</table>', content, re.S).group(0)
    overall_row = re.search(r'<tr class="overall">.*?</tr>', table).group(0)
    for r in runs:
        assert "run %d<br>" % r["run"] in table and "%.2f" % r["overall"]["score"] in overall_row
    assert table.count("<tr>") == len(runs[0]["dimensions"]) + 1          # the head, and a row per dimension


def test_markdown_trend_is_a_table_of_runs(engine):
    runs = kept_runs(engine, 3)
    content, _ = rendered(engine, "markdown", portfolio="retailer", run=2)
    section = content.split("## Trend\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if re.match(r"\| \d+ \|", line)]
    assert [int(r.split("|")[1]) for r in rows] == [1, 2]          # up to the run reported
    head = next(line for line in section.splitlines() if line.startswith("| Run |"))
    assert head.startswith("| Run | Made | Data as of | Overall |")
    assert head.count("|") == len(runs[0]["dimensions"]) + 5
    assert "%.2f" % runs[1]["overall"]["score"] in rows[1]


def human(day):
    months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December"]
    y, m, d = (int(x) for x in day[:10].split("-"))
    return "%d %s %d" % (d, months[m - 1], y)


def test_trend_axis_is_when_each_run_was_made_with_its_as_of_beside(engine):
    # Runs made on one day whose data speak for other dates: each is labelled with the day it was made,
    # and with its as-of date beside it, never in its place (runs made on different days with the same
    # data once read as one day).
    engine.call("portfolio.put", {"portfolio": retailer()})
    runs = [engine.call("assessment.run", {"portfolio": "retailer", "asOf": d}) for d in ("2026-09-30", "2026-10-31")]
    content, _ = rendered(engine, "html", portfolio="retailer")
    svg = re.search(r'<svg class="chart trend".*?</svg>', content, re.S).group(0)
    made = [human(r["at"]) for r in runs]
    dates = re.findall(r'<text [^>]*class="date">([^<]*)</text>', svg)
    notes = re.findall(r'<text [^>]*class="date as-of">([^<]*)</text>', svg)
    assert dates == made, dates
    assert notes == ["as of 30 September 2026", "as of 31 October 2026"], notes
    table = re.search(r'<table class="trend-table">.*?</table>', content, re.S).group(0)
    assert "as of 30 September 2026" in table and made[0] in table
    md, _ = rendered(engine, "markdown", portfolio="retailer")
    rows = [line for line in md.split("## Trend\n", 1)[1].splitlines() if re.match(r"\| \d+ \|", line)]
    assert made[0] in rows[0] and "30 September 2026" in rows[0] and "31 October 2026" in rows[1]


def test_pitfalls_resolved_and_new_since_the_last_run_are_named(engine):
    # The retailer's IT cost objective joins the shared growth objective: its siloed objectives go away.
    engine.call("portfolio.put", {"portfolio": retailer()})
    first = engine.call("assessment.run", {"portfolio": "retailer"})
    engine.call("entity.upsert", {"portfolio": "retailer", "kind": "okr", "entity": {
        "id": "okr-it-cost", "objective": "Cut IT run costs by 10%", "departments": ["it"], "parent": "okr-online-growth"}})
    second = engine.call("assessment.run", {"portfolio": "retailer"})
    resolved = [p for p in first["pitfalls"] if p["pitfall"] not in {q["pitfall"] for q in second["pitfalls"]}]
    new = [p for p in second["pitfalls"] if p["pitfall"] not in {q["pitfall"] for q in first["pitfalls"]}]
    assert [p["pitfall"] for p in resolved] == ["siloed-objectives"] and new == []
    name = resolved[0]["name"]
    html, _ = rendered(engine, "html", portfolio="retailer")
    summary = re.search(r'<div class="exec-summary">.*?</div>', html, re.S).group(0)
    assert "Since run 1, resolved: “%s”; none is new." % name in summary
    section = re.search(r'<section id="changes">.*?</section>', html, re.S).group(0)
    assert "<h2>Since run 1</h2>" in section and "<strong>%s</strong>" % name in section
    assert section.split("<h3>New pitfalls</h3>", 1)[1].startswith("\n<p>None.</p>") and 'href="#changes"' in html
    md, _ = rendered(engine, "markdown", portfolio="retailer")
    assert "## Since run 1" in md and "- **%s** (" % name in md.split("### Pitfalls resolved", 1)[1]
    assert "Since run 1, resolved: “%s”" % name in md.split("## Executive summary", 1)[1].split("\n## ", 1)[0]
    # One run alone has nothing to compare with: no such section or sentence.
    engine.call("portfolio.put", {"portfolio": dict(retailer(), id="alone")})
    engine.call("assessment.run", {"portfolio": "alone"})
    alone, _ = rendered(engine, "html", portfolio="alone")
    assert 'id="changes"' not in alone and "Since run" not in alone


def test_prioritization_says_its_units(engine):
    # Money and effort with their units and thousands grouped; the score's column says what it measures.
    engine.call("portfolio.put", {"portfolio": retailer()})
    result = engine.call("assessment.run", {"portfolio": "retailer", "keep": False})
    checkout = next(i for i in result["analyses"]["prioritization"]["ranked"] if i["product"]["id"] == "checkout")
    assert checkout["explanation"] == "expected value 2,400,000 a year / 40 person-weeks = 60,000 a person-week"
    html, _ = rendered(engine, "html", result=result)
    section = re.search(r'<section id="prioritization">.*?</section>', html, re.S).group(0)
    assert '<th scope="col">Expected value a year per person-week</th>' in section and "60,000" in section
    md, _ = rendered(engine, "markdown", result=result)
    assert "| # | Product | Expected value a year per person-week | How |" in md
    rice = engine.call("assessment.run", {"portfolio": "retailer", "keep": False, "prioritization": "rice"})
    html, _ = rendered(engine, "html", result=rice)
    assert "RICE score (reach × impact × confidence per person-month)" in html and "180,000" in html


def test_radar_ring_labels_are_drawn_over_the_scores(engine):
    # SVG paints in document order: a label before the plotted area sits under it, so the rings' labels
    # come after the series and the dots, each with its white halo (paint-order: stroke).
    engine.call("portfolio.put", {"portfolio": retailer()})
    html, _ = rendered(engine, "html", result=engine.call("assessment.run", {"portfolio": "retailer", "keep": False}))
    svg = re.search(r'<svg class="chart radar".*?</svg>', html, re.S).group(0)
    labels = [m.start() for m in re.finditer(r'class="ring-label"', svg)]
    painted = [m.start() for m in re.finditer(r'<polygon class="series (current|previous)"|<circle class="dot', svg)]
    assert labels and painted and min(labels) > max(painted)
    assert re.search(r"svg \.ring-label \{[^}]*paint-order: stroke", html)


def test_a_stage_whose_products_owners_live_outside_is_not_assessed(engine):
    # The checkout stage's product names its owner by a reference the portfolio cannot resolve (a group
    # in the org provider): the stage is neither owned nor unowned. Its near-miss, the cart's product
    # with no owner at all, is unowned.
    doc = {"id": "shop", "organization": {"name": "Shop"},
           "journeys": [{"id": "buy", "name": "Buy", "stages": [{"id": "checkout", "name": "Checkout"},
                                                                 {"id": "cart", "name": "Cart"}]}],
           "products": [{"id": "pay", "name": "Pay", "status": "live", "stages": ["buy/checkout"]},
                        {"id": "basket", "name": "Basket", "status": "live", "stages": ["buy/cart"]}],
           "unresolved": [{"kind": "product", "id": "pay", "field": "owner", "ref": "group:default/payments",
                           "source": "catalog-info.yaml:7"}]}
    engine.call("portfolio.put", {"portfolio": doc})
    result = engine.call("assessment.run", {"portfolio": "shop", "keep": False})
    cov = result["analyses"]["coverage"]
    status = {s["stage"]: s["status"] for j in cov["journeys"] for s in j["stages"]}
    assert status == {"buy/checkout": "owner-unknown", "buy/cart": "unowned"}
    assert cov["unowned"] == ["buy/cart"] and cov["ownerUnknown"] == ["buy/checkout"]
    html, _ = rendered(engine, "html", result=result)
    assert "1 not assessed (owners outside the portfolio)" in html and "st-owner-unknown" in html
    md, _ = rendered(engine, "markdown", result=result)
    assert "1 unowned" in md and "1 not assessed (owners outside the portfolio)" in md


def test_one_run_or_a_result_given_has_no_trend(engine):
    runs = kept_runs(engine, 1)
    for fmt in ("html", "markdown"):
        content, _ = rendered(engine, fmt, portfolio="retailer")
        assert 'id="trend"' not in content and "## Trend" not in content
    kept_runs(engine, 2)
    content, _ = rendered(engine, "html", result=runs[0])
    assert 'id="trend"' not in content
