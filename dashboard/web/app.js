// vitals dashboard: reads the server-sent event stream next to this page and
// draws it with uPlot. No third-party code besides uPlot, no inline script.
(function () {
  'use strict';

  var MAX_POINTS = 3600; // one hour at one sample a second

  // ---- formatting ----
  function fmtBytes(v) {
    if (v == null) return '–';
    var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0, a = Math.abs(v);
    while (a >= 1024 && i < u.length - 1) { a /= 1024; v /= 1024; i++; }
    return (Math.abs(v) >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(1)) + ' ' + u[i];
  }
  function fmtSeconds(v) {
    if (v == null) return '–';
    var a = Math.abs(v);
    if (a === 0) return '0';
    if (a < 1e-6) return (v * 1e9).toFixed(0) + ' ns';
    if (a < 1e-3) return (v * 1e6).toFixed(a < 1e-5 ? 1 : 0) + ' µs';
    if (a < 1) return (v * 1e3).toFixed(a < 1e-2 ? 1 : 0) + ' ms';
    return v.toFixed(2) + ' s';
  }
  function fmtNum(v) {
    if (v == null) return '–';
    var a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toFixed(1) + 'G';
    if (a >= 1e6) return (v / 1e6).toFixed(1) + 'M';
    if (a >= 1e4) return (v / 1e3).toFixed(1) + 'k';
    return (Math.round(v * 100) / 100).toString();
  }
  function fmtPct(v) { return v == null ? '–' : (v * 100).toFixed(v < 0.1 ? 2 : 1) + '%'; }
  function fmtRateBytes(v) { return v == null ? '–' : fmtBytes(v) + '/s'; }
  function fmtCores(v) { return v == null ? '–' : (Math.round(v * 100) / 100) + ' cores'; }
  function fmtPerMin(v) { return v == null ? '–' : fmtNum(v) + '/min'; }
  function fmtSPS(v) { return v == null ? '–' : fmtSeconds(v) + '/s'; }
  // Clock time in the browser's zone, 24-hour: one format for every axis
  // and legend ("14:03:07"; "14:03" when ticks are a minute or more apart).
  function pad2(n) { return n < 10 ? '0' + n : '' + n; }
  function fmtClock(t, withSeconds) {
    if (t == null) return '–';
    var d = new Date(t * 1000);
    var s = pad2(d.getHours()) + ':' + pad2(d.getMinutes());
    return withSeconds === false ? s : s + ':' + pad2(d.getSeconds());
  }
  var lastTicks = [];
  function timeTicks(u, splits) {
    var step = splits.length > 1 ? splits[1] - splits[0] : 1;
    lastTicks = splits.map(function (t) { return fmtClock(t, step < 60); });
    return lastTicks;
  }

  // ---- chart definitions: one line of explanation each ----
  var CHARTS = [
    { id: 'memory', title: 'Heap against its limits',
      explain: 'Live heap and the heap goal the GC steers to, with GOMEMLIMIT and the container limit: the goal should stay under both, with room for non-heap memory.',
      y: fmtBytes,
      series: [
        { f: 'heap_live', label: 'heap live', color: '#1f6feb', width: 2, fmt: fmtBytes },
        { f: 'heap_goal', label: 'heap goal', color: '#8250df', fmt: fmtBytes },
        { f: 'gomemlimit', label: 'GOMEMLIMIT', color: '#d29922', dash: [8, 4], fmt: fmtBytes },
        { f: 'mem_limit', label: 'container limit', color: '#c62828', dash: [3, 3], fmt: fmtBytes }
      ] },
    { id: 'gc', title: 'GC pauses and GC CPU',
      explain: 'Stop-the-world pause percentiles among the pauses of each second (none when no GC ran), and the share of available CPU the GC took.',
      y: fmtSeconds, y2: fmtPct,
      series: [
        { f: 'gc_pause_p50', label: 'pause p50', color: '#2e7d32', fmt: fmtSeconds, points: true },
        { f: 'gc_pause_p99', label: 'pause p99', color: '#d29922', fmt: fmtSeconds, points: true },
        { f: 'gc_pause_max', label: 'pause max', color: '#c62828', fmt: fmtSeconds, points: true },
        { f: 'gc_cpu', label: 'GC CPU', color: '#1f6feb', fmt: fmtPct, scale: 'y2', width: 2 }
      ] },
    { id: 'goroutines', title: 'Goroutines and the leak watchdog',
      explain: 'Goroutine count against the watchdog\'s learned baseline and threshold; red marks are samples where it suspects a leak.',
      y: fmtNum,
      series: [
        { f: 'goroutines', label: 'goroutines', color: '#1f6feb', width: 2, fmt: fmtNum },
        { f: 'wd_baseline', label: 'baseline', color: '#2e7d32', dash: [8, 4], fmt: fmtNum },
        { f: 'wd_threshold', label: 'threshold', color: '#d29922', dash: [3, 3], fmt: fmtNum },
        { f: 'wd_suspected', label: 'leak suspected', color: '#c62828', fmt: fmtNum, marks: true }
      ] },
    { id: 'cpu', title: 'GOMAXPROCS against the CPU limit',
      explain: 'GOMAXPROCS should not exceed the cgroup CPU quota (in cores): above it the runtime runs more threads than the kernel lets it, and gets throttled.',
      y: fmtNum,
      series: [
        { f: 'gomaxprocs', label: 'GOMAXPROCS', color: '#1f6feb', width: 2, fmt: fmtNum },
        { f: 'cpu_limit', label: 'CPU quota', color: '#c62828', dash: [3, 3], fmt: fmtCores },
        { f: 'cpu_affinity', label: 'CPUs (affinity)', color: '#6e7781', dash: [8, 4], fmt: fmtNum },
        { f: 'cpu_used', label: 'CPU used by Go', color: '#2e7d32', fmt: fmtCores }
      ] },
    { id: 'throttling', title: 'CPU throttling',
      explain: 'Share of CFS periods in which the cgroup was throttled, and seconds throttled per second: anything above zero is latency paid for a quota that is too small.',
      y: fmtPct, y2: fmtSPS,
      series: [
        { f: 'throttled_share', label: 'periods throttled', color: '#c62828', width: 2, fmt: fmtPct },
        { f: 'throttled_sps', label: 'throttled time', color: '#d29922', fmt: fmtSPS, scale: 'y2' }
      ] },
    { id: 'sched', title: 'Scheduler latency',
      explain: 'How long runnable goroutines waited before they ran, per second (p50, p90, p99): high values mean too few Ps, throttling or a starved machine.',
      y: fmtSeconds,
      series: [
        { f: 'sched_p50', label: 'p50', color: '#2e7d32', fmt: fmtSeconds },
        { f: 'sched_p90', label: 'p90', color: '#d29922', fmt: fmtSeconds },
        { f: 'sched_p99', label: 'p99', color: '#c62828', fmt: fmtSeconds }
      ] },
    { id: 'alloc', title: 'Allocation rate',
      explain: 'Heap bytes allocated per second, and GC cycles per minute: the allocation rate is what makes the GC run.',
      y: fmtRateBytes, y2: fmtPerMin,
      series: [
        { f: 'alloc_bps', label: 'allocated', color: '#1f6feb', width: 2, fmt: fmtRateBytes },
        { f: 'gc_per_min', label: 'GC cycles', color: '#8250df', fmt: fmtPerMin, scale: 'y2', points: true }
      ] }
  ];

  // ---- state ----
  var fields = [], col = {}, cols = [], charts = [];
  // Incidents ({t, trigger, reason}, oldest first) and how many marks each
  // chart drew last time.
  var incidents = [], marksDrawn = {};
  var INCIDENT_COLOR = '#ad1457';
  var paused = false, windowSec = 300, connected = false, samples = 0;
  var statusEl = document.getElementById('status');

  function setStatus(text, cls) {
    statusEl.textContent = text;
    statusEl.className = 'status ' + (cls || '');
  }

  function cssVar(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }

  function makeChart(def) {
    var card = document.createElement('section');
    card.className = 'card';
    card.id = 'chart-' + def.id;
    var h = document.createElement('h2'); h.textContent = def.title;
    var p = document.createElement('p'); p.textContent = def.explain;
    var note = document.createElement('p'); note.className = 'note';
    var plot = document.createElement('div'); plot.className = 'plot';
    card.append(h, p, note, plot);
    document.getElementById('charts').appendChild(card);

    var axisColor = cssVar('--muted'), gridColor = cssVar('--line');
    var axis = function (fmt, scale, side) {
      return { scale: scale, side: side, stroke: axisColor, size: 86,
        grid: { show: side !== 1, stroke: gridColor, width: 1 },
        ticks: { stroke: gridColor, width: 1 },
        values: function (u, vals) { return vals.map(function (v) { return fmt(v); }); } };
    };
    // The x series: its legend shows the time under the cursor, else the
    // latest sample's.
    var series = [{ label: 'time', value: function (u, v) { return fmtClock(v == null ? latest(u.data[0]) : v); } }];
    def.series.forEach(function (s, k) {
      // The legend shows the value under the cursor, else the latest one.
      var o = { label: s.label, stroke: s.color, width: s.width || 1.5, scale: s.scale || 'y',
        value: function (u, v) { return s.fmt(v == null && u.cursor.idx == null ? latest(u.data[k + 1]) : v); } };
      if (s.dash) o.dash = s.dash;
      if (s.points) o.points = { show: true, size: 4, fill: s.color };
      if (s.marks) {
        o.paths = function () { return null; };
        o.points = { show: true, size: 9, fill: s.color, stroke: s.color };
      }
      series.push(o);
    });
    var axes = [{ stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor, width: 1 },
      space: 72, values: timeTicks },
      axis(def.y, 'y', 3)];
    var scales = { x: { time: true }, y: { range: function (u, min, max) { return [Math.min(0, min), max > 0 ? max * 1.1 : 1]; } } };
    if (def.y2) {
      axes.push(axis(def.y2, 'y2', 1));
      scales.y2 = { range: function (u, min, max) { return [Math.min(0, min), max > 0 ? max * 1.1 : 1]; } };
    }
    var opts = { width: Math.max(plot.clientWidth, 200), height: 220, series: series, axes: axes, scales: scales,
      legend: { live: true }, cursor: { drag: { x: false, y: false } },
      hooks: { draw: [function (u) { drawIncidents(u, def.id); }] } };
    var data = [[]].concat(def.series.map(function () { return []; }));
    var u = new uPlot(opts, data, plot);
    var c = { def: def, u: u, plot: plot, note: note };
    new ResizeObserver(function () { resize(c); }).observe(plot);
    return c;
  }

  // drawIncidents draws a vertical line, labelled with the trigger, at each
  // incident inside the chart's time range.
  function drawIncidents(u, id) {
    var n = 0, min = u.scales.x.min, max = u.scales.x.max, ctx = u.ctx, b = u.bbox;
    if (min == null || max == null) { marksDrawn[id] = 0; return; }
    ctx.save();
    ctx.strokeStyle = INCIDENT_COLOR; ctx.fillStyle = INCIDENT_COLOR;
    ctx.lineWidth = Math.max(1, Math.round(window.devicePixelRatio || 1)) * 2;
    ctx.setLineDash([6, 3]);
    ctx.font = Math.round(11 * (window.devicePixelRatio || 1)) + 'px sans-serif';
    ctx.textBaseline = 'top';
    incidents.forEach(function (inc) {
      if (inc.t < min || inc.t > max) return;
      var x = Math.round(u.valToPos(inc.t, 'x', true));
      ctx.beginPath(); ctx.moveTo(x, b.top); ctx.lineTo(x, b.top + b.height); ctx.stroke();
      var label = 'incident: ' + inc.trigger, w = ctx.measureText(label).width;
      ctx.fillText(label, x + 4 + w > b.left + b.width ? x - 4 - w : x + 4, b.top + 2);
      n++;
    });
    ctx.restore();
    marksDrawn[id] = n;
  }

  function showIncidents() {
    var ul = document.getElementById('incidents');
    if (!ul) return;
    ul.textContent = '';
    incidents.slice().reverse().forEach(function (inc) {
      var li = document.createElement('li');
      li.textContent = 'incident ' + inc.trigger + ' at ' + fmtClock(inc.t) + (inc.reason ? ': ' + inc.reason : '');
      ul.appendChild(li);
    });
  }

  function latest(a) {
    if (!a) return null;
    for (var i = a.length - 1; i >= 0; i--) if (a[i] != null) return a[i];
    return null;
  }

  function resize(c) {
    var w = Math.max(c.plot.clientWidth, 200);
    var h = w < 500 ? 190 : 230;
    if (w !== c.u.width || h !== c.u.height) c.u.setSize({ width: w, height: h });
  }

  // ---- data ----
  function push(row) {
    if (!Array.isArray(row) || row.length !== fields.length) return;
    var t = cols[0];
    if (t.length && row[0] <= t[t.length - 1]) return; // already have it
    for (var i = 0; i < row.length; i++) cols[i].push(row[i]);
    samples++;
    if (t.length > MAX_POINTS) {
      var n = t.length - MAX_POINTS;
      for (var j = 0; j < cols.length; j++) cols[j].splice(0, n);
    }
  }

  function firstIndex(t, from) { // binary search: first t >= from
    var lo = 0, hi = t.length;
    while (lo < hi) { var m = (lo + hi) >> 1; if (t[m] < from) lo = m + 1; else hi = m; }
    return lo;
  }

  function lastValue(f) {
    var a = cols[col[f]];
    if (!a) return null;
    for (var i = a.length - 1; i >= 0 && i >= a.length - 5; i--) if (a[i] != null) return a[i];
    return null;
  }

  function notes(c) {
    var id = c.def.id, text = '';
    if (!connected && !cols.length) text = 'waiting for data…';
    else if (id === 'memory' && lastValue('gomemlimit') == null && lastValue('mem_limit') == null) text = 'no GOMEMLIMIT and no container memory limit.';
    else if (id === 'cpu' && lastValue('cpu_limit') == null) text = 'no cgroup CPU quota: GOMAXPROCS is bounded by the CPUs only.';
    else if (id === 'throttling' && lastValue('throttled_share') == null) text = 'no cgroup CPU counters readable.';
    else if (id === 'throttling' && lastValue('cpu_limit') == null) text = 'no CPU quota: nothing can be throttled.';
    else if (id === 'goroutines' && lastValue('wd_baseline') == null) text = 'the leak watchdog has not learned a baseline (or is off).';
    else if (id === 'gc' && lastValue('gc_pause_p50') == null) text = 'no GC pause in the last seconds.';
    if (c.note.textContent !== text) c.note.textContent = text;
  }

  function render() {
    if (paused || !cols.length) return;
    var t = cols[0];
    var i0 = t.length ? firstIndex(t, t[t.length - 1] - windowSec) : 0;
    charts.forEach(function (c) {
      var data = [t.slice(i0)];
      c.def.series.forEach(function (s) {
        var a = cols[col[s.f]];
        data.push(a ? a.slice(i0) : t.slice(i0).map(function () { return null; }));
      });
      c.u.setData(data);
      notes(c);
    });
  }

  // window.vitalsPoints returns, per chart, how many samples hold at least
  // one value for that chart (the end-to-end test waits on it).
  window.vitalsPoints = function () {
    var out = {};
    charts.forEach(function (c) {
      var n = 0, t = cols[0] || [];
      for (var i = 0; i < t.length; i++) {
        for (var k = 0; k < c.def.series.length; k++) {
          var a = cols[col[c.def.series[k].f]];
          if (a && a[i] != null) { n++; break; }
        }
      }
      out[c.def.id] = n;
    });
    return out;
  };
  // window.vitalsIncidentMarks returns, per chart, how many incident marks
  // it drew last time (the end-to-end test waits on it).
  window.vitalsIncidentMarks = function () { return marksDrawn; };
  // window.vitalsTimeTicks returns the labels of the latest time axis drawn.
  window.vitalsTimeTicks = function () { return lastTicks; };
  window.vitalsSeriesPoints = function (f) {
    var a = cols[col[f]] || [], n = 0;
    for (var i = 0; i < a.length; i++) if (a[i] != null) n++;
    return n;
  };

  // ---- header ----
  function showReport(r, err) {
    var dl = document.getElementById('report');
    dl.textContent = '';
    function item(name, val, why) {
      if (!val) return;
      var d = document.createElement('div');
      var dt = document.createElement('dt'); dt.textContent = name;
      var dd = document.createElement('dd'); dd.textContent = val;
      if (why) { var w = document.createElement('div'); w.className = 'why'; w.textContent = why; dd.appendChild(w); }
      d.append(dt, dd); dl.appendChild(d);
    }
    if (err) { item('start-up report', 'unavailable', err); return; }
    if (!r) { item('start-up report', 'not provided', ''); return; }
    item('Go', r.go_version, '');
    item('GOMAXPROCS', r.gomaxprocs, r.gomaxprocs_why);
    item('GOMEMLIMIT', r.gomemlimit, r.gomemlimit_why);
    item('GOTRACEBACK', r.gotraceback, r.gotraceback_why);
    item('cgroup', r.cgroup_version, '');
    document.getElementById('flight-link').hidden = !!r.no_flight_recorder;
    var ul = document.getElementById('warnings');
    ul.textContent = '';
    (r.warnings || []).forEach(function (w) { var li = document.createElement('li'); li.textContent = w; ul.appendChild(li); });
  }

  // ---- controls ----
  var pauseBtn = document.getElementById('pause');
  pauseBtn.addEventListener('click', function () {
    paused = !paused;
    pauseBtn.textContent = paused ? 'Resume' : 'Pause';
    pauseBtn.setAttribute('aria-pressed', paused ? 'true' : 'false');
    setStatus(paused ? 'paused' : (connected ? 'live' : 'reconnecting…'), paused ? 'paused' : (connected ? 'live' : 'down'));
    render();
  });
  var winSel = document.getElementById('window');
  winSel.addEventListener('change', function () { windowSec = +winSel.value || 300; render(); });

  // ---- stream ----
  // A tab hidden for a minute closes its stream, so that the server stops
  // sampling when nobody looks; it reconnects when shown again.
  var es = null, hideTimer = 0, HIDDEN_CLOSE_MS = 60000;
  document.addEventListener('visibilitychange', function () {
    if (document.hidden) {
      hideTimer = setTimeout(function () {
        if (es) { es.close(); es = null; connected = false; setStatus('idle (tab hidden)', ''); }
      }, HIDDEN_CLOSE_MS);
    } else {
      clearTimeout(hideTimer);
      if (!es) connect();
    }
  });

  function connect() {
    es = new EventSource('events');
    es.addEventListener('hello', function (e) {
      var h = JSON.parse(e.data);
      if (!fields.length) {
        fields = h.fields;
        fields.forEach(function (f, i) { col[f] = i; cols.push([]); });
      }
      showReport(h.report, h.report_error);
      incidents = h.incidents || [];
      showIncidents();
      (h.history || []).forEach(push);
      connected = true;
      if (!paused) setStatus('live', 'live');
      render();
    });
    es.onmessage = function (e) {
      var m = JSON.parse(e.data);
      if (m && !Array.isArray(m) && Array.isArray(m.incidents)) {
        incidents = m.incidents;
        showIncidents();
        charts.forEach(function (c) { c.u.redraw(false); });
        return;
      }
      push(m); render();
    };
    var self = es;
    es.onerror = function () {
      connected = false;
      if (!paused) setStatus(self.readyState === EventSource.CLOSED ? 'disconnected' : 'reconnecting…', 'down');
    };
  }

  charts = CHARTS.map(makeChart);
  charts.forEach(notes);
  connect();
})();
