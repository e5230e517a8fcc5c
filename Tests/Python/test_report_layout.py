"""The HTML report's fixes of issue 24, as headless Chromium lays the page out (layout, not pixels).

Each test renders a real report from a real engine, adds a probe script to a copy of it (the report itself
has no script) that measures the elements Chromium laid out (bounding boxes, which element is on top at
a point, computed styles) and writes them into the page as JSON, and reads them back with --dump-dom:

- the trend's axis: three runs made on three different days, whose data speak for the same date, show
  three distinct labels, one under each run's point, with the as-of date beside each, none overlapping;
- the pitfalls resolved and new since the last run: named in the executive summary and in a section of
  their own, both on the page (not hidden, not clipped), the section linked from the contents;
- the radar's ring labels: wherever a label lies over the plotted area or a dot, the browser finds the
  label on top (hit testing follows paint order), and some label does lie over it;
- prioritization: the score column says its unit, the explanation says money a year and effort in
  person-weeks, and the bars beside the scores are proportional to them on one scale.

Like test_report.py's browser tests, these need `chromium` (make deps-browser); under `make test`
(TWOSPEED_REQUIRE_BROWSER=1) they fail rather than skip without it.
"""
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import Engine, retailer
from test_report import chromium, rendered  # noqa: F401  (chromium is a fixture)

HERE = os.path.dirname(os.path.abspath(__file__))

# Measures the laid-out page. Boxes are in page coordinates (scroll added); hit tests scroll their
# element into view first, since elementFromPoint only sees the viewport.
PROBE = r"""
<script>
(function () {
  function box(el) {
    var r = el.getBoundingClientRect();
    return {x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height,
            right: r.right + scrollX, bottom: r.bottom + scrollY};
  }
  function shown(el) {
    for (var e = el; e && e.nodeType === 1; e = e.parentElement) {
      var s = getComputedStyle(e);
      if (s.display === 'none' || s.visibility === 'hidden' || parseFloat(s.opacity) === 0) return false;
    }
    var r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  }
  function item(el) { return {text: el.textContent, box: box(el), shown: shown(el)}; }
  var out = {page: box(document.querySelector('main'))};

  var trend = document.querySelector('svg.chart.trend');
  if (trend) {
    var texts = Array.prototype.slice.call(trend.querySelectorAll('g.grid text'));
    out.trend = {
      runs: texts.filter(function (t) { return /^run \d+$/.test(t.textContent); }).map(item),
      made: Array.prototype.map.call(trend.querySelectorAll('text.date:not(.as-of)'), item),
      asOf: Array.prototype.map.call(trend.querySelectorAll('text.date.as-of'), item),
      overallPoints: Array.prototype.map.call(
        trend.querySelectorAll('g.series')[trend.querySelectorAll('g.series').length - 1].querySelectorAll('circle'),
        function (c) { var b = box(c); return {cx: b.x + b.w / 2, cy: b.y + b.h / 2}; })
    };
  }

  var summary = document.querySelector('.exec-summary');
  if (summary) {
    var sentence = Array.prototype.filter.call(summary.querySelectorAll('*'), function (e) {
      return e.children.length === 0 && /^Since run \d+/.test(e.textContent.trim()) ||
             Array.prototype.some.call(e.childNodes, function (n) { return n.nodeType === 3 && /Since run \d+/.test(n.textContent); });
    })[0];
    out.summary = {box: box(summary), sentence: sentence ? item(sentence) : null};
  }
  var changes = document.getElementById('changes');
  if (changes) {
    out.changes = {section: item(changes), heading: item(changes.querySelector('h2')),
                   subheads: Array.prototype.map.call(changes.querySelectorAll('h3'), item),
                   items: Array.prototype.map.call(changes.querySelectorAll('li'), item),
                   paragraphs: Array.prototype.map.call(changes.querySelectorAll('p'), item)};
    var link = document.querySelector('a[href="#changes"]');
    out.changes.link = link ? item(link) : null;
  }
  var order = {};
  ['summary', 'changes', 'trend', 'recommendations'].forEach(function (id) {
    var el = document.getElementById(id);
    if (el) order[id] = box(el).y;
  });
  out.order = order;

  var radar = document.querySelector('svg.chart.radar');
  if (radar) {
    radar.scrollIntoView({block: 'center'});
    var m = radar.getScreenCTM().inverse();
    var current = radar.querySelector('polygon.series.current');
    var previous = radar.querySelector('polygon.series.previous');
    var dots = Array.prototype.slice.call(radar.querySelectorAll('circle.dot'));
    out.radar = {labels: []};
    Array.prototype.forEach.call(radar.querySelectorAll('.ring-label'), function (label) {
      var r = label.getBoundingClientRect(), covered = 0, onTop = 0, under = [];
      for (var y = Math.ceil(r.top) + 1; y < r.bottom - 1; y += 2) {
        for (var x = Math.ceil(r.left) + 1; x < r.right - 1; x += 2) {
          var p = radar.createSVGPoint(); p.x = x; p.y = y;
          var q = p.matrixTransform(m);
          var plotted = current.isPointInFill(q) || current.isPointInStroke(q) ||
                        (previous && previous.isPointInStroke(q)) ||
                        dots.some(function (d) { return d.isPointInFill(q) || d.isPointInStroke(q); });
          if (!plotted) continue;
          covered++;
          var hit = document.elementFromPoint(x, y);
          if (hit && (hit === label || label.contains(hit))) onTop++;
          else if (under.length < 5) under.push(hit ? hit.tagName + '.' + (hit.getAttribute('class') || '') : 'nothing');
        }
      }
      out.radar.labels.push({text: label.textContent, shown: shown(label), covered: covered, onTop: onTop, under: under});
    });
    window.scrollTo(0, 0);
  }

  var prio = document.querySelector('#prioritization table.priorities');
  if (prio) {
    out.prioritization = {
      head: Array.prototype.map.call(prio.querySelectorAll('thead th'), function (th) { return th.textContent; }),
      rows: Array.prototype.map.call(prio.querySelectorAll('tbody tr'), function (tr) {
        var cell = tr.querySelector('td.num'), bar = cell.querySelector('.valuebar > span');
        return {product: tr.querySelector('th').textContent, score: cell.textContent.trim(),
                how: tr.querySelectorAll('td')[2].textContent, bar: bar.getBoundingClientRect().width,
                track: cell.querySelector('.valuebar').getBoundingClientRect().width,
                scoreRight: box(cell).right - parseFloat(getComputedStyle(cell).paddingRight),
                align: getComputedStyle(cell).textAlign, shown: shown(cell)};
      })
    };
  }

  var pre = document.createElement('pre');
  pre.id = 'layout-probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
"""


def layout(chromium, html, path):  # noqa: F811
    """What Chromium laid out for `html`, measured by PROBE in a copy of the page."""
    assert "<script" not in html, "the report itself carries no script"
    assert html.count("</body>") == 1
    path.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = chromium(path.as_uri(), "--window-size=1280,2000", "--dump-dom").decode("utf-8")
    found = re.search(r'<pre id="layout-probe">(.*?)</pre>', dom, re.S)
    assert found, "the probe did not run:\n" + dom[-2000:]
    text = found.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    return json.loads(text)


def overlap(a, b):
    return a["x"] < b["right"] and b["x"] < a["right"] and a["y"] < b["bottom"] and b["y"] < a["bottom"]


def inside(a, outer, slack=1):
    return (a["x"] >= outer["x"] - slack and a["right"] <= outer["right"] + slack)


# --- the trend's axis: when each run was made ----------------------------------------------------------

# Moves CLOCK_REALTIME by $TWOSPEED_TEST_CLOCK_OFFSET seconds for the process it is preloaded into, so that
# a real engine makes a run "on another day" (the engine reads the time with clock_gettime).
CLOCK_SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>
int clock_gettime(clockid_t clock, struct timespec *ts) {
    static int (*real)(clockid_t, struct timespec *);
    if (!real) real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
    int rc = real(clock, ts);
    const char *offset = getenv("TWOSPEED_TEST_CLOCK_OFFSET");
    if (rc == 0 && offset && (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE)) ts->tv_sec += atoll(offset);
    return rc;
}
"""

# One kept run of the retailer in a store file, by a process of its own (the shim moves its clock).
RUN_CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from conftest import Engine, retailer
eng = Engine(sys.argv[2])
if sys.argv[3] == "first":
    eng.call("portfolio.put", {"portfolio": retailer()})
r = eng.call("assessment.run", {"portfolio": "retailer", "asOf": "2026-09-30", "answers": [
    {"criterion": "culture.outcomes", "score": int(sys.argv[4]), "evidence": "survey"}]})
eng.close()
print(json.dumps({"run": r["run"], "at": r["at"], "asOf": r["asOf"]}))
"""


@pytest.fixture
def clock_shim(tmp_path):
    cc = os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc")
    assert cc, "a C compiler builds the clock shim"
    src = tmp_path / "clock_shim.c"
    src.write_text(CLOCK_SHIM)
    lib = tmp_path / "libclock_shim.so"
    subprocess.run([cc, "-shared", "-fPIC", "-O2", str(src), "-o", str(lib), "-ldl"], check=True)
    return lib


def test_trend_axis_shows_three_days_for_three_runs_made_on_three_days(chromium, clock_shim, tmp_path):  # noqa: F811
    # Three runs made two days apart whose data all speak for 30 September: before the fix the axis read
    # "30 September 2026" three times, as if one day. Now each run is labelled with the day it was made,
    # under its own point, and its as-of date beside it, and no label overlaps another.
    store = tmp_path / "store.sqlite"
    day = 86400
    made = []
    for i, offset in enumerate((-4 * day, -2 * day, 0)):
        done = subprocess.run([sys.executable, "-c", RUN_CHILD, HERE, str(store), "first" if i == 0 else "again", str(2 + i)],
                              capture_output=True, text=True, timeout=120,
                              env=dict(os.environ, LD_PRELOAD=str(clock_shim), TWOSPEED_TEST_CLOCK_OFFSET=str(offset)))
        assert done.returncode == 0, done.stderr[-2000:]
        made.append(json.loads(done.stdout))
    assert [m["run"] for m in made] == [1, 2, 3]
    days = [m["at"][:10] for m in made]
    assert len(set(days)) == 3, days                         # the shim did move the engine's clock
    eng = Engine(str(store))
    try:
        html, _ = rendered(eng, "html", portfolio="retailer")
    finally:
        eng.close()
    got = layout(chromium, html, tmp_path / "trend.html")["trend"]

    labels = [t["text"] for t in got["made"]]
    assert len(labels) == 3 and len(set(labels)) == 3, labels
    months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December"]
    assert labels == ["%d %s %s" % (int(d[8:10]), months[int(d[5:7]) - 1], d[:4]) for d in days], labels
    assert [t["text"] for t in got["asOf"]] == ["as of 30 September 2026"] * 3
    assert [t["text"] for t in got["runs"]] == ["run 1", "run 2", "run 3"]
    points = got["overallPoints"]
    assert len(points) == 3
    for i in range(3):
        column = [got["runs"][i], got["made"][i], got["asOf"][i]]
        for t in column:
            assert t["shown"], t
            # Centred under its run's point (text-anchor middle), within a pixel.
            assert abs((t["box"]["x"] + t["box"]["right"]) / 2 - points[i]["cx"]) <= 1.5, (t, points[i])
        # Top to bottom: the run, the day it was made, the date its data speak for.
        assert column[0]["box"]["bottom"] <= column[1]["box"]["y"] + 1 and column[1]["box"]["bottom"] <= column[2]["box"]["y"] + 1, column
    everything = got["runs"] + got["made"] + got["asOf"]
    for a in range(len(everything)):
        for b in range(a + 1, len(everything)):
            assert not overlap(everything[a]["box"], everything[b]["box"]), (everything[a], everything[b])


# --- resolved and new pitfalls, named and seen ----------------------------------------------------------

def test_resolved_and_new_pitfalls_are_on_the_page(chromium, engine, tmp_path):  # noqa: F811
    # IT's cost objective joins the shared growth objective between two runs: siloed objectives is
    # resolved, nothing is new. Chromium shows the summary's sentence and the section (not hidden, inside
    # the page's width), the section right after the summary and before the trend, linked from the contents.
    engine.call("portfolio.put", {"portfolio": retailer()})
    first = engine.call("assessment.run", {"portfolio": "retailer"})
    engine.call("entity.upsert", {"portfolio": "retailer", "kind": "okr", "entity": {
        "id": "okr-it-cost", "objective": "Cut IT run costs by 10%", "departments": ["it"], "parent": "okr-online-growth"}})
    second = engine.call("assessment.run", {"portfolio": "retailer"})
    siloed = next(p for p in first["pitfalls"] if p["pitfall"] == "siloed-objectives")
    assert "siloed-objectives" not in {p["pitfall"] for p in second["pitfalls"]}
    html, _ = rendered(engine, "html", portfolio="retailer")
    got = layout(chromium, html, tmp_path / "changes.html")

    sentence = got["summary"]["sentence"]
    assert sentence and sentence["shown"], got["summary"]
    assert "Since run 1, resolved: “%s”; none is new." % siloed["name"] in sentence["text"]
    assert inside(sentence["box"], got["page"]), (sentence, got["page"])
    changes = got["changes"]
    assert changes["section"]["shown"] and inside(changes["section"]["box"], got["page"])
    assert changes["heading"]["text"] == "Since run 1" and changes["heading"]["shown"]
    assert [h["text"] for h in changes["subheads"]] == ["Pitfalls resolved", "New pitfalls"]
    assert all(h["shown"] for h in changes["subheads"])
    assert len(changes["items"]) == 1 and changes["items"][0]["shown"], changes["items"]
    assert changes["items"][0]["text"].startswith(siloed["name"] + " (" + siloed["severity"] + ")")
    for s in siloed["subjects"]:
        assert s["name"] in changes["items"][0]["text"]
    # The new pitfalls' heading is followed by "None." (the near-miss: nothing is new), on the page too.
    assert [p["text"] for p in changes["paragraphs"]] == ["None."] and changes["paragraphs"][0]["shown"]
    # Resolved above new, in the page as in the source.
    assert changes["subheads"][0]["box"]["bottom"] <= changes["items"][0]["box"]["y"] <= changes["subheads"][1]["box"]["y"]
    assert changes["link"] and changes["link"]["shown"], changes.get("link")
    order = got["order"]
    assert order["summary"] < order["changes"] < order["trend"] < order["recommendations"], order


# --- the radar's ring labels over the scores -------------------------------------------------------------

def test_radar_ring_labels_are_on_top_of_the_plotted_area(chromium, engine, tmp_path):  # noqa: F811
    # Two runs, so that the previous run's outline is drawn too. Wherever a ring label lies over the plotted
    # area, its outline or a dot, Chromium's hit test (which follows paint order) finds the label, not the
    # plot; before the fix the labels were painted first and the area covered them.
    engine.call("portfolio.put", {"portfolio": retailer()})
    engine.call("assessment.run", {"portfolio": "retailer"})
    engine.call("entity.upsert", {"portfolio": "retailer", "kind": "okr", "entity": {
        "id": "okr-it-cost", "objective": "Cut IT run costs by 10%", "departments": ["it"], "parent": "okr-online-growth"}})
    engine.call("assessment.run", {"portfolio": "retailer"})
    html, _ = rendered(engine, "html", portfolio="retailer")
    labels = layout(chromium, html, tmp_path / "radar.html")["radar"]["labels"]
    assert len(labels) >= 3, labels                       # a label for each level's ring
    assert all(l["shown"] for l in labels), labels
    # Not vacuous: in the retailer's report some label does lie over the plotted area.
    assert sum(l["covered"] for l in labels) >= 20, labels
    for l in labels:
        assert l["onTop"] == l["covered"], l


# --- prioritization: units and one scale ----------------------------------------------------------------

def number(text):
    return float(text.replace(",", ""))


def test_prioritization_shows_units_and_bars_on_one_scale(chromium, engine, tmp_path):  # noqa: F811
    # Before the fix the column said nothing of its unit and the explanation read "value 2400000 /
    # resources 40 person-weeks". Now the column names the unit, money a year and effort are named and
    # grouped, and each bar is the score's share of the first's, so the rows compare at a glance.
    engine.call("portfolio.put", {"portfolio": retailer()})
    result = engine.call("assessment.run", {"portfolio": "retailer", "keep": False})
    html, _ = rendered(engine, "html", result=result)
    got = layout(chromium, html, tmp_path / "prioritization.html")["prioritization"]
    assert got["head"] == ["#", "Product", "Expected value a year per person-week", "How"]
    rows = got["rows"]
    assert len(rows) >= 3
    checkout = next(r for r in rows if r["product"] == "Online checkout")
    assert checkout["how"] == "expected value 2,400,000 a year / 40 person-weeks = 60,000 a person-week"
    assert checkout["score"] == "60,000"
    for r in rows:
        assert r["shown"], r
        assert re.fullmatch(r"\d{1,3}(,\d{3})*(\.\d+)?", r["score"]), r["score"]      # thousands grouped
        assert re.search(r"a year / [\d,.]+ person-weeks", r["how"]), r["how"]
    top = number(rows[0]["score"])
    assert rows[0]["bar"] == pytest.approx(rows[0]["track"], abs=1)
    for r in rows:
        # One scale: the bar is the score's share of the first's, to a pixel.
        assert r["bar"] == pytest.approx(r["track"] * number(r["score"]) / top, abs=1.5), r
    scores = [number(r["score"]) for r in rows]
    assert scores == sorted(scores, reverse=True)
