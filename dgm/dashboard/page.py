"""The dashboard page: one HTML document that reads the JSON API and draws with plotly.

plotly (a pip dependency) draws the tree (zoom and pan for free) and the charts; its JavaScript is
served from the installed package (`plotly/package_data/plotly.min.js`), never copied into the
repository. The page polls `/api/run` and redraws when its fingerprint changes.
"""

from __future__ import annotations

import functools
from pathlib import Path


@functools.cache
def plotly_js() -> bytes:
    import plotly

    return (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()


@functools.cache
def html() -> str:
    from pygments.formatters import HtmlFormatter

    return PAGE.replace("/*PYGMENTS*/", HtmlFormatter().get_style_defs(".hl"))


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>dgm run</title><link rel="icon" href="data:,">
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:16px;color:#222;background:#fafafa}
section,header{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:10px 14px;margin-bottom:14px}
h1{font-size:20px;margin:0 0 6px}h2{font-size:16px;margin:0 0 6px}
.row{display:flex;gap:14px;flex-wrap:wrap}.row>section{flex:1 1 520px}
#details pre{max-height:420px;overflow:auto}table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left}
/*PYGMENTS*/
</style><script src="/plotly.min.js"></script></head><body>
<header><h1 id="title">dgm run</h1><div id="state"></div></header>
<section><h2>Archive tree</h2><div id="tree" style="height:520px"></div></section>
<section id="details"><h2>Agent</h2><p>Click a node of the tree.</p></section>
<div class="row"><section><h2>Score</h2><div id="score" style="height:320px"></div></section>
<section><h2>Spend per generation</h2><div id="spend" style="height:320px"></div></section></div>
<section><h2>Policy timeline</h2><ul id="policy"></ul></section>
<script>
(function () {
  var version = null, ids = [];
  function get(path) { return fetch(path).then(function (r) { return r.json(); }); }
  function text(s) { var d = document.createElement('div'); d.textContent = s == null ? '' : String(s); return d.innerHTML; }
  function tagNodes() {
    var traces = document.querySelectorAll('#tree .scatterlayer .trace');
    if (traces.length < 2) { return; }
    traces[1].querySelectorAll('path.point').forEach(function (el, i) {
      el.setAttribute('data-agent-id', ids[i]);
      el.style.pointerEvents = 'all';
      el.onclick = function () { select(ids[i]); };
    });
  }
  function select(id) {
    get('/api/agents/' + encodeURIComponent(id)).then(function (d) {
      var a = d.agent, rows = d.evaluation.tasks.map(function (t) {
        return '<tr><td>' + text(t.task_id) + '</td><td>' + (t.stage + 1) + '</td><td>' + text(t.status) + '</td><td>' + t.tokens + '</td></tr>';
      }).join('');
      document.getElementById('details').innerHTML = '<h2>Agent ' + text(a.id) + '</h2>' +
        '<p>parent ' + text(a.parent || '-') + ', generation ' + a.generation + ', ' + text(a.status) +
        (a.invalid_reason ? ' (' + text(a.invalid_reason) + ')' : '') + ', score ' + (a.score == null ? '-' : a.score.toFixed(3)) +
        ', model spend $' + d.spend.dollars.toFixed(4) + ', ' + d.spend.tokens + ' tokens</p>' +
        '<p>asked to improve: ' + text(d.diagnosis_summary || '-') + '</p>' +
        '<h3>Diff against its parent</h3><div class="diff">' + d.diff_html + '</div>' +
        (rows ? '<h3>Per-task results</h3><table><tr><th>task</th><th>stage</th><th>status</th><th>tokens</th></tr>' + rows + '</table>' : '');
    });
  }
  function drawTree(t) {
    var byId = {}, ex = [], ey = [];
    t.nodes.forEach(function (n) { byId[n.id] = n; });
    t.nodes.forEach(function (n) { var p = byId[n.parent]; if (p) { ex.push(p.x, n.x, null); ey.push(p.y, n.y, null); } });
    ids = t.nodes.map(function (n) { return n.id; });
    var nodes = {x: t.nodes.map(function (n) { return n.x; }), y: t.nodes.map(function (n) { return n.y; }),
      mode: 'markers', type: 'scatter', hoverinfo: 'text', name: 'agents',
      text: t.nodes.map(function (n) { return n.id + ' ' + n.status + (n.duplicate_of ? ' of ' + n.duplicate_of : '') + ' score ' + (n.score == null ? '-' : n.score.toFixed(3)); }),
      marker: {size: t.nodes.map(function (n) { return 9 + Math.min(n.children, 8) * 2; }),
        color: t.nodes.map(function (n) { return n.status === 'invalid' ? '#c0392b' : n.colour; }),
        symbol: t.nodes.map(function (n) { return n.status === 'invalid' ? 'x-open' : (n.duplicate_of ? 'square' : 'circle'); }),
        line: {width: t.nodes.map(function (n) { return n.best_lineage ? 3 : 1; }),
               color: t.nodes.map(function (n) { return n.best_lineage ? '#e6a700' : '#555'; })}}};
    var edges = {x: ex, y: ey, mode: 'lines', type: 'scatter', hoverinfo: 'skip', line: {color: '#c8c8c8'}, name: 'edges'};
    Plotly.react('tree', [edges, nodes], {showlegend: false, margin: {t: 10, l: 50, r: 10, b: 30}, dragmode: 'pan',
      xaxis: {visible: false}, yaxis: {title: {text: 'generation'}, autorange: 'reversed', dtick: 1}}, {scrollZoom: true, responsive: true});
  }
  function drawCharts(run) {
    var g = run.generations, x = g.map(function (s) { return s.generation; }), spent = 0;
    var cumulative = g.map(function (s) { spent += s.dollars; return spent; });
    var line = function (key, name, axis) { return {x: axis === 'x2' ? cumulative : x, y: g.map(function (s) { return s[key]; }),
      name: name, mode: 'lines+markers', line: {color: key === 'mean' ? '#4575b4' : '#e6a700'}, xaxis: axis, yaxis: axis === 'x2' ? 'y2' : 'y', showlegend: axis !== 'x2', legendgroup: key}; };
    Plotly.react('score', [line('best_so_far', 'best so far', 'x'), line('mean', 'mean of generation', 'x'),
      line('best_so_far', 'best so far', 'x2'), line('mean', 'mean of generation', 'x2')],
      {grid: {rows: 1, columns: 2, pattern: 'independent'}, legend: {orientation: 'h', y: -0.25},
       xaxis: {title: {text: 'generation'}}, xaxis2: {title: {text: 'cumulative spend ($)'}},
       yaxis: {range: [0, 1], title: {text: 'score'}}, yaxis2: {range: [0, 1]}, margin: {t: 10}}, {responsive: true});
    Plotly.react('spend', [{type: 'bar', x: x, y: g.map(function (s) { return s.dollars; }), name: 'dollars'}],
      {xaxis: {title: {text: 'generation'}}, yaxis: {title: {text: 'model spend ($)'}, rangemode: 'tozero'}, margin: {t: 10}}, {responsive: true});
  }
  function refresh() {
    get('/api/run').then(function (run) {
      document.getElementById('title').textContent = 'dgm run ' + run.name;
      document.getElementById('state').textContent = run.state + ': ' + run.agents + ' agents (' + run.evaluated +
        ' evaluated, ' + run.invalid + ' invalid), best ' + (run.best ? run.best.id + ' ' + run.best.score.toFixed(3) : 'none yet') +
        ', spend $' + run.spend.dollars.toFixed(4) + ', ' + run.spend.tokens + ' tokens';
      var changed = JSON.stringify(run.version) !== version;
      version = JSON.stringify(run.version);
      if (!changed) { return; }
      drawCharts(run);
      get('/api/tree').then(drawTree);
      get('/api/policy').then(function (events) {
        document.getElementById('policy').innerHTML = events.map(function (e) { return '<li>' + text(e.text) + '</li>'; }).join('') || '<li>no policy event</li>';
      });
    });
  }
  var tree = document.getElementById('tree');
  Plotly.newPlot(tree, [], {}).then(function () { tree.on('plotly_afterplot', tagNodes);
    tree.on('plotly_click', function (e) { var p = e.points.find(function (q) { return q.curveNumber === 1; }); if (p) { select(ids[p.pointIndex]); } }); });
  refresh();
  setInterval(refresh, 2000);
})();
</script></body></html>
"""
