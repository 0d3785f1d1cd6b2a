(function () {
  performance.mark('dgm-start');   // bench/dashboard_scale.py reads the marks
  // plotly.min.js (4.8 MB) loads without blocking the page: until it has run, the tree is a
  // plain SVG draft of the same layout (every node an element with its data-agent-id, clickable
  // for its details), replaced by plotly's zoomable tree and charts as soon as plotly is there.
  // Served, plotly is fetched only once the draft is painted (its parse would otherwise hold the
  // page's own answers back); frozen, it is inlined after this script.
  var startPlotly, plotlyLoaded = new Promise(function (resolve) {
    if (window.Plotly) { startPlotly = function () {}; resolve(); return; }
    if (window.DGM_DATA) { startPlotly = function () {}; window.addEventListener('load', function () { resolve(); }); return; }
    startPlotly = function () {
      startPlotly = function () {};
      requestAnimationFrame(function () { setTimeout(function () {   // after the next paint
        var tag = document.createElement('script');
        tag.src = '/plotly.min.js';
        tag.onload = function () { resolve(); };
        document.head.appendChild(tag);
      }, 0); });
    };
  });
  // Above GL_LIMIT tree nodes plotly draws them with WebGL (scattergl). Measured in headless
  // chromium (software GL), SVG is as fast up to about a thousand points, so small trees keep SVG
  // points, which are DOM elements themselves. Each node is then also a button in #tree-index, so
  // every node stays a DOM element with data-agent-id.
  // Page options in the address: ?webgl=1 draws with WebGL at any size, ?limit=N collapses the
  // tree above N agents (the server's default otherwise).
  var GL_LIMIT = 1000, frozen = window.DGM_DATA || null, options = new URLSearchParams(location.search);
  var version = null, ids = [], cladeOf = [], expand = [], gl = false;
  function get(path) {
    if (frozen) {
      return path in frozen ? Promise.resolve(frozen[path]) : Promise.reject(new Error('not in this report: ' + path));
    }
    return fetch(path).then(function (r) { return r.json(); });
  }
  function text(s) { var d = document.createElement('div'); d.textContent = s == null ? '' : String(s); return d.innerHTML; }
  function score(v) { return v == null ? '-' : v.toFixed(3); }
  function traceGroup(index) {
    var found = null;
    document.querySelectorAll('#tree .scatterlayer .trace').forEach(function (g) {
      if (g.__data__ && g.__data__[0] && g.__data__[0].trace.index === index) { found = g; }
    });
    return found;
  }
  function tagNodes() {
    var nodes = traceGroup(1), folds = traceGroup(2);
    if (!gl && nodes) {
      nodes.querySelectorAll('path.point').forEach(function (el, i) {
        el.setAttribute('data-agent-id', ids[i]);
        el.style.pointerEvents = 'all';
        el.onclick = function () { select(ids[i]); };
      });
    }
    if (folds) {
      folds.querySelectorAll('path.point').forEach(function (el, i) {
        el.setAttribute('data-clade-of', cladeOf[i]);
        el.style.pointerEvents = 'all';
        el.onclick = function () { expandClade(cladeOf[i]); };
      });
    }
  }
  function expandClade(parent) {
    if (!frozen && expand.indexOf(parent) < 0) { expand.push(parent); redrawTree(); }
  }
  function indexNodes() {
    // WebGL points are pixels, not elements: one button per node carries the data-agent-id.
    var index = document.getElementById('tree-index');
    index.innerHTML = gl ? ids.map(function (id) { return '<button type="button" data-agent-id="' + text(id) + '">' + text(id) + '</button>'; }).join('') : '';
    index.onclick = function (e) { var id = e.target.getAttribute('data-agent-id'); if (id) { select(id); } };
  }
  function select(id) {
    get('/api/agents/' + encodeURIComponent(id)).then(function (d) {
      var a = d.agent, rows = d.evaluation.tasks.map(function (t) {
        return '<tr><td>' + text(t.task_id) + '</td><td>' + (t.stage + 1) + '</td><td>' + text(t.status) + '</td><td>' + t.tokens + '</td></tr>';
      }).join('');
      document.getElementById('details').innerHTML = '<h2>Agent ' + text(a.id) + '</h2>' +
        '<p>parent ' + text(a.parent || '-') + ', generation ' + a.generation + ', ' + text(a.status) +
        (a.invalid_reason ? ' (' + text(a.invalid_reason) + ')' : '') + ', score ' + score(a.score) +
        ', model spend $' + d.spend.dollars.toFixed(4) + ', ' + d.spend.tokens + ' tokens</p>' +
        (a.improver ? '<p>improvement procedure ' + text(a.improver) +
          (a.improved_by ? ', made by procedure ' + text(a.improved_by) : '') + '</p>' : '') +
        '<p>asked to improve: ' + text(d.diagnosis_summary || '-') + '</p>' +
        '<h3>Diff against its parent</h3><div class="diff">' + d.diff_html + '</div>' +
        (rows ? '<h3>Per-task results</h3><table><tr><th>task</th><th>stage</th><th>status</th><th>tokens</th></tr>' + rows + '</table>' : '') +
        '<h3>Trajectories</h3><div id="trajectory-list"></div><div id="trajectory"></div>';
      showTrajectories(a.id);
    }, function (err) { document.getElementById('details').innerHTML = '<h2>Agent ' + text(id) + '</h2><p>' + text(err.message) + '</p>'; });
  }
  function trajectoryPath(id, name) { return '/api/agents/' + encodeURIComponent(id) + '/trajectories' + (name == null ? '' : '/' + encodeURIComponent(name)); }
  function showTrajectories(id) {
    get(trajectoryPath(id)).then(function (list) {
      var box = document.getElementById('trajectory-list');
      if (!box) { return; }
      box.innerHTML = list.length ? list.map(function (t) {
        return '<button type="button" data-trajectory="' + text(t.name) + '">' + text(t.label) + '</button> ';
      }).join('') : '<p>no trajectory kept</p>';
      box.onclick = function (e) { var name = e.target.getAttribute('data-trajectory'); if (name != null) { showTrajectory(id, name); } };
      if (list.length) { showTrajectory(id, list[0].name); }
    }, function (err) { var box = document.getElementById('trajectory-list'); if (box) { box.textContent = err.message; } });
  }
  function showTrajectory(id, name) {
    get(trajectoryPath(id, name)).then(function (t) {
      var box = document.getElementById('trajectory');
      if (!box) { return; }
      var steps = t.steps.map(function (s) {
        return '<div class="step"><b>step ' + text(s.step) + '</b>' + (s.content ? '<pre class="say">' + text(s.content) + '</pre>' : '') +
          s.tool_calls.map(function (c) { return '<pre class="call">tool call ' + text(c.name) + ' ' + text(c.arguments) + '</pre>'; }).join('') +
          s.tool_results.map(function (r) { return '<pre class="out">result of ' + text(r.name) + ': ' + text(r.output) + '</pre>'; }).join('') + '</div>';
      }).join('');
      box.innerHTML = '<h4 data-trajectory-shown="' + text(t.name) + '">' + text(t.label) + '</h4>' + (steps || '<p>no step</p>') +
        (t.final ? '<p>end: ' + text(t.final.exit_reason) + ' after ' + text(t.final.steps) + ' steps' + (t.final.detail ? ': ' + text(t.final.detail) : '') + '</p>' : '') +
        (t.cut ? '<p>(cut: ' + t.bytes + ' bytes in the file; only the start and the end record are shown)</p>' : '');
    }, function (err) { var box = document.getElementById('trajectory'); if (box) { box.textContent = err.message; } });
  }
  function treeUrl() {
    if (frozen) { return '/api/tree'; }   // a report holds one tree (see dgm.dashboard.report)
    var query = (options.get('limit') ? ['limit=' + encodeURIComponent(options.get('limit'))] : [])
      .concat(expand.length ? ['expand=' + expand.map(encodeURIComponent).join(',')] : []);
    return '/api/tree' + (query.length ? '?' + query.join('&') : '');
  }
  function drawDraft(t) {
    var box = document.getElementById('tree'), ns = 'http://www.w3.org/2000/svg';
    var w = box.clientWidth || 800, h = box.clientHeight || 520, pad = 14;
    var xs = t.nodes.map(function (n) { return n.x; }), ys = t.nodes.map(function (n) { return n.y; });
    var x0 = Math.min.apply(null, xs.concat([0])), x1 = Math.max.apply(null, xs.concat([1]));
    var y0 = Math.min.apply(null, ys.concat([0])), y1 = Math.max.apply(null, ys.concat([1]));
    function px(n) { return pad + (n.x - x0) / ((x1 - x0) || 1) * (w - 2 * pad); }
    function py(n) { return pad + (n.y - y0) / ((y1 - y0) || 1) * (h - 2 * pad); }
    var byId = {}, d = [], parts = [];
    t.nodes.forEach(function (n) { byId[n.id] = n; });
    t.nodes.forEach(function (n) { var p = byId[n.parent]; if (p) { d.push('M' + px(p) + ' ' + py(p) + 'L' + px(n) + ' ' + py(n)); } });
    t.nodes.forEach(function (n) {
      var colour = text(n.status === 'invalid' ? '#c0392b' : n.colour);
      parts.push(n.clade
        ? '<rect data-clade-of="' + text(n.parent) + '" x="' + (px(n) - 6) + '" y="' + (py(n) - 6) + '" width="12" height="12" fill="' + colour + '" stroke="#555"/>'
        : '<circle data-agent-id="' + text(n.id) + '" cx="' + px(n) + '" cy="' + py(n) + '" r="' + (4 + Math.min(n.children, 8)) +
          '" fill="' + colour + '" stroke="' + (n.best_lineage ? '#e6a700' : '#555') + '" stroke-width="' + (n.best_lineage ? 3 : 1) + '"><title>' +
          text(n.id + ' ' + n.status + ' score ' + score(n.score)) + '</title></circle>');
    });
    box.innerHTML = '<svg id="tree-draft" xmlns="' + ns + '" width="' + w + '" height="' + h + '"><path d="' + d.join('') +
      '" stroke="#c8c8c8" fill="none"/>' + parts.join('') + '</svg>';
    box.firstChild.onclick = function (e) {
      var id = e.target.getAttribute('data-agent-id'), clade = e.target.getAttribute('data-clade-of');
      if (id) { select(id); }
      if (clade) { expandClade(clade); }
    };
    box.setAttribute('data-shown', String(t.nodes.filter(function (n) { return !n.clade; }).length));
    performance.mark('dgm-tree');
  }
  function drawTree(t) {
    return plotlyLoaded.then(function () { return drawPlotlyTree(t); });
  }
  function drawPlotlyTree(t) {
    var draft = document.getElementById('tree-draft');
    if (draft) { draft.remove(); }
    var byId = {}, ex = [], ey = [];
    var agents = t.nodes.filter(function (n) { return !n.clade; }), clades = t.nodes.filter(function (n) { return n.clade; });
    t.nodes.forEach(function (n) { byId[n.id] = n; });
    t.nodes.forEach(function (n) { var p = byId[n.parent]; if (p) { ex.push(p.x, n.x, null); ey.push(p.y, n.y, null); } });
    ids = agents.map(function (n) { return n.id; });
    cladeOf = clades.map(function (n) { return n.parent; });
    gl = agents.length > GL_LIMIT || options.get('webgl') === '1';
    var lastRow = Math.max.apply(null, t.nodes.map(function (n) { return n.y; }).concat([0]));   // whole generations on a short axis
    var type = gl ? 'scattergl' : 'scatter';
    var nodes = {x: agents.map(function (n) { return n.x; }), y: agents.map(function (n) { return n.y; }),
      mode: 'markers', type: type, hoverinfo: 'text', name: 'agents',
      text: agents.map(function (n) { return n.id + ' ' + n.status + (n.duplicate_of ? ' of ' + n.duplicate_of : '') + ' score ' + score(n.score); }),
      marker: {size: agents.map(function (n) { return 9 + Math.min(n.children, 8) * 2; }),
        color: agents.map(function (n) { return n.status === 'invalid' ? '#c0392b' : n.colour; }),
        symbol: agents.map(function (n) { return n.status === 'invalid' ? 'x-open' : (n.duplicate_of ? 'square' : 'circle'); }),
        line: {width: agents.map(function (n) { return n.best_lineage ? 3 : 1; }),
               color: agents.map(function (n) { return n.best_lineage ? '#e6a700' : '#555'; })}}};
    var folds = {x: clades.map(function (n) { return n.x; }), y: clades.map(function (n) { return n.y; }),
      mode: clades.length > 200 ? 'markers' : 'markers+text', type: 'scatter', hoverinfo: 'text', name: 'folded', textposition: 'bottom center',
      text: clades.map(function (n) { return '+' + n.agents; }),
      hovertext: clades.map(function (n) { return n.agents + ' agents folded under ' + n.parent + ', best ' + score(n.score) + (frozen ? '' : ' (click to expand)'); }),
      marker: {size: 14, symbol: 'diamond', color: clades.map(function (n) { return n.colour; }), line: {width: 1, color: '#555'}}};
    var edges = {x: ex, y: ey, mode: 'lines', type: type, hoverinfo: 'skip', line: {color: '#c8c8c8', width: 1}, name: 'edges'};
    document.getElementById('tree-note').textContent = t.shown < t.agents ?
      'Showing ' + t.shown + ' of ' + t.agents + ' agents: the lineages of the best and the newest; a diamond +N folds the rest of a parent\'s children' +
      (frozen ? ' (this report holds the folded tree only: `dgm serve RUN_DIR` expands them).' : ' (click it to expand).') : '';
    return Plotly.react('tree', [edges, nodes, folds], {showlegend: false, margin: {t: 10, l: 50, r: 10, b: 30}, dragmode: 'pan',
      hovermode: 'closest', xaxis: {visible: false}, yaxis: {title: {text: 'generation'}, autorange: 'reversed', dtick: lastRow <= 20 ? 1 : null}},
      {scrollZoom: true, responsive: true}).then(function () {
      indexNodes();
      tagNodes();
      if (!performance.getEntriesByName('dgm-interactive').length) { performance.mark('dgm-interactive'); }
      document.getElementById('tree').setAttribute('data-shown', String(ids.length));
      document.getElementById('tree').setAttribute('data-interactive', '');
    });
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
  function drawMatrix(m, run) {
    var note = document.getElementById('matrix-note');
    if (!m.agents.length) { note.textContent = 'No task results yet.'; document.getElementById('lineage-changes').innerHTML = ''; return; }
    note.textContent = m.agents.length + ' agents (of ' + m.agents_with_results + ' with results, depth-first: a lineage reads downwards) x ' +
      m.tasks.length + ' tasks. Light green: solved, grey: not solved, blank: not run, dark green: gained against the parent, red: lost against it.';
    // z: 0 not solved, 1 solved, 2 gained (solved, the parent did not), -1 lost (the parent solved it)
    var z = m.cells.map(function (row, i) {
      var a = m.agents[i];
      return row.map(function (v, j) { var t = m.tasks[j]; return v == null ? null : a.gained.indexOf(t) >= 0 ? 2 : a.lost.indexOf(t) >= 0 ? -1 : v; });
    });
    var words = {'-1': 'lost (the parent solved it)', '0': 'not solved', '1': 'solved', '2': 'gained (the parent did not solve it)'};
    var hover = z.map(function (row, i) { return row.map(function (v, j) { return m.agents[i].id + ' x ' + m.tasks[j] + ': ' + (v == null ? 'not run' : words[v]); }); });
    Plotly.react('matrix', [{type: 'heatmap', z: z, x: m.tasks, y: m.agents.map(function (a) { return a.id; }), text: hover, hoverinfo: 'text',
      zmin: -1.5, zmax: 2.5, showscale: false, xgap: 1, ygap: 1,   // four bands, each value in the middle of one
      colorscale: [[0, '#d73027'], [0.25, '#d73027'], [0.25, '#e0e0e0'], [0.5, '#e0e0e0'], [0.5, '#a6d96a'], [0.75, '#a6d96a'], [0.75, '#1a6630'], [1, '#1a6630']]}],
      {margin: {t: 10, l: 70, b: 90}, yaxis: {autorange: 'reversed', type: 'category'}, xaxis: {type: 'category', tickangle: -45}}, {responsive: true});
    var byId = {};
    m.agents.forEach(function (a) { byId[a.id] = a; });
    document.getElementById('lineage-changes').innerHTML = run.best_lineage.filter(function (id) { return byId[id]; }).map(function (id) {
      var a = byId[id];
      return '<li data-lineage-agent="' + text(id) + '">' + text(id) + ' (generation ' + a.generation + ', ' + a.solved + ' solved): ' +
        (a.parent == null ? 'the seed' : 'gained ' + (text(a.gained.join(', ')) || 'none') + '; lost ' + (text(a.lost.join(', ')) || 'none')) + '</li>';
    }).join('') || '<li>no agent of the best lineage has results</li>';
  }
  function redrawTree() { return get(treeUrl()).then(drawTree); }
  function drawPolicy(events) {
    document.getElementById('policy').innerHTML = events.map(function (e) { return '<li>' + text(e.text) + '</li>'; }).join('') || '<li>no policy event</li>';
  }
  function showRun(run) {
    document.getElementById('title').textContent = 'dgm run ' + run.name;
    document.getElementById('state').textContent = (frozen ? 'report of a run that was ' : '') + run.state + ': ' + run.agents + ' agents (' + run.evaluated +
      ' evaluated, ' + run.invalid + ' invalid), best ' + (run.best ? run.best.id + ' ' + run.best.score.toFixed(3) : 'none yet') +
      ', spend $' + run.spend.dollars.toFixed(4) + ', ' + run.spend.tokens + ' tokens';
    var changed = JSON.stringify(run.version) !== version;
    version = JSON.stringify(run.version);
    return changed;
  }
  function refresh() {
    get('/api/run').then(function (run) {
      if (!showRun(run)) { return; }
      redrawTree().then(function () { drawCharts(run); });
      get('/api/policy').then(drawPolicy);
      get('/api/matrix').then(function (m) { drawMatrix(m, run); });
    });
  }
  function listen() {
    var tree = document.getElementById('tree');
    tree.on('plotly_afterplot', tagNodes);
    tree.on('plotly_click', function (e) {
      var p = e.points[0];
      if (p && p.curveNumber === 1) { select(ids[p.pointIndex]); }
      if (p && p.curveNumber === 2) { expandClade(cladeOf[p.pointIndex]); }
    });
  }
  // First render: run and tree asked for at once, the draft drawn at once, then (plotly loaded)
  // the tree first, the charts after it.
  Promise.all([get('/api/run'), get(treeUrl())]).then(function (answers) {
    showRun(answers[0]);
    if (!window.Plotly) { drawDraft(answers[1]); }
    startPlotly();
    return drawTree(answers[1]).then(function () {
      listen();
      drawCharts(answers[0]);
      get('/api/policy').then(drawPolicy);
      get('/api/matrix').then(function (m) { drawMatrix(m, answers[0]); });
      if (!frozen) { setInterval(refresh, 2000); }
    });
  });
})();
