// The studio's one script: it polls the page's own feeds (same origin, the sign-in
// cookie goes along) and draws with Plotly. Pages say what they are in data-* on <main>.
(function () {
  "use strict";
  var main = document.querySelector("main");
  if (!main) return;
  var base = main.dataset.base || "";
  var TERMINAL = ["Completed", "Failed", "Canceled"];
  var PLOT = { displayModeBar: false, responsive: true };

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
      if (!r.ok) throw new Error(url + ": " + r.status);
      return r.json();
    });
  }
  function enc(s) { return encodeURIComponent(s); }

  // One chart per metric; each run a trace of its points over steps.
  function drawMetrics(holder, byRun) {
    var names = {};
    Object.keys(byRun).forEach(function (run) {
      Object.keys(byRun[run]).forEach(function (m) { names[m] = true; });
    });
    var metrics = Object.keys(names).sort();
    if (!metrics.length) return;
    var empty = holder.querySelector(".empty");
    if (empty) empty.remove();
    metrics.forEach(function (metric) {
      var id = "chart-" + metric.replace(/[^A-Za-z0-9_-]/g, "_");
      var div = document.getElementById(id);
      if (!div) {
        div = document.createElement("div");
        div.id = id;
        div.className = "chart metric-chart";
        div.dataset.metric = metric;
        holder.appendChild(div);
      }
      var traces = Object.keys(byRun).filter(function (run) {
        return (byRun[run][metric] || []).length;
      }).map(function (run) {
        var points = byRun[run][metric];
        return { name: run, mode: "lines+markers", type: "scatter",
                 x: points.map(function (p, i) { return p.step == null ? i : p.step; }),
                 y: points.map(function (p) { return p.value; }) };
      });
      Plotly.react(div, traces, {
        title: { text: metric }, height: 280, margin: { l: 50, r: 20, t: 40, b: 40 },
        xaxis: { title: { text: "step" } }, showlegend: traces.length > 1,
      }, PLOT);
      div.dataset.points = traces.reduce(function (n, t) { return n + t.x.length; }, 0);
    });
  }

  function runPage() {
    var run = main.dataset.run;
    var ended = main.dataset.terminal === "true";
    var log = document.getElementById("log");
    var state = document.getElementById("log-state");
    var rankSelect = document.getElementById("rank");
    var metrics = document.getElementById("metrics");
    var offset = 0, rank = 0, pollingLog = false;

    function pollLog() {
      if (!log || pollingLog) return;
      pollingLog = true;
      var asked = rank;
      fetch(base + "/runs/" + enc(run) + "/log?rank=" + asked + "&offset=" + offset,
            { credentials: "same-origin", cache: "no-store" })
        .then(function (r) {
          if (!r.ok) throw new Error("log: " + r.status);
          var status = r.headers.get("x-run-status") || "";
          var next = parseInt(r.headers.get("x-next-offset") || offset, 10);
          return r.text().then(function (text) {
            if (asked !== rank) return;
            if (text) {
              log.appendChild(document.createTextNode(text));
              log.scrollTop = log.scrollHeight;
            }
            offset = next;
            log.dataset.bytes = offset;
            if (TERMINAL.indexOf(status) >= 0) {
              if (!ended) { ended = true; setTimeout(pollLog, 500); }  // the last bytes
              state.textContent = "The run ended: " + status + ".";
              main.dataset.status = status;
            } else {
              state.textContent = status ? "Live: the run is " + status + "." : "";
            }
          });
        })
        .catch(function (e) { state.textContent = String(e); })
        .then(function () { pollingLog = false; });
    }
    function pollMetrics() {
      if (!metrics) return;
      getJSON(base + "/runs/" + enc(run) + "/metrics.json").then(function (body) {
        var byRun = {};
        byRun[run] = body.metrics || {};
        drawMetrics(metrics, byRun);
      }).catch(function () {});
    }
    if (rankSelect) {
      rankSelect.addEventListener("change", function () {
        rank = parseInt(rankSelect.value, 10);
        offset = 0;
        log.textContent = "";
        pollLog();
      });
    }
    pollLog();
    pollMetrics();
    var timer = setInterval(function () {
      pollLog();
      pollMetrics();
      if (ended) clearInterval(timer);
    }, 1000);
    drawTrials();
  }

  // A sweep's trials as parallel coordinates: one axis per hyperparameter (choices
  // become evenly spaced ticks), the primary metric last, one line per trial coloured
  // by its metric. Drawn as SVG here: Plotly's parcoords needs WebGL, which many
  // browsers (headless, remote desktops) do not have.
  function drawTrials() {
    var island = document.getElementById("trials-data");
    var holder = document.getElementById("parallel");
    if (!island || !holder) return;
    var data = JSON.parse(island.textContent);
    var trials = data.trials.filter(function (t) { return t.metric != null; });
    if (!trials.length) { holder.textContent = "No trial has a metric yet."; return; }
    var axes = data.parameters.map(function (p) {
      return axis(p, trials.map(function (t) { return t.hyperparameters[p]; }));
    });
    axes.push(axis(data.metric, trials.map(function (t) { return t.metric; })));
    var W = Math.max(holder.clientWidth || 800, 360), H = 320, top = 40, bottom = 30;
    var left = 70, step = (W - 2 * left) / Math.max(axes.length - 1, 1);
    var NS = "http://www.w3.org/2000/svg";
    function el(name, attrs, text) {
      var e = document.createElementNS(NS, name);
      Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
      if (text != null) e.textContent = text;
      return e;
    }
    var svg = el("svg", { "class": "parcoords", width: W, height: H, role: "img",
                          "aria-label": "parallel coordinates of the trials" });
    var metric = axes[axes.length - 1];
    trials.forEach(function (t, i) {
      var points = axes.map(function (a, j) {
        return (left + j * step).toFixed(1) + "," +
               (top + (1 - a.at(i)) * (H - top - bottom)).toFixed(1);
      }).join(" ");
      var line = el("polyline", { "class": "trial", points: points, fill: "none",
                                  stroke: colour(metric.at(i)), "stroke-width": 2,
                                  "data-name": t.name });
      line.appendChild(el("title", {}, t.name + ": " + data.metric + " " + t.metric));
      svg.appendChild(line);
    });
    axes.forEach(function (a, j) {
      var x = left + j * step;
      svg.appendChild(el("line", { "class": "axis", x1: x, x2: x, y1: top, y2: H - bottom,
                                   stroke: "#1d2330" }));
      svg.appendChild(el("text", { x: x, y: top - 18, "text-anchor": "middle",
                                   "font-weight": 600 }, a.label));
      a.ticks.forEach(function (tick) {
        svg.appendChild(el("text", { x: x + 6, y: top + (1 - tick[0]) * (H - top - bottom) + 4,
                                     "font-size": 11 }, tick[1]));
      });
    });
    holder.textContent = "";
    holder.appendChild(svg);
    holder.dataset.trials = trials.length;
  }
  function axis(label, values) {
    var numeric = values.every(function (v) { return typeof v === "number"; });
    if (!numeric) {
      var names = Array.from(new Set(values.map(String)));
      var share = function (k) { return names.length > 1 ? k / (names.length - 1) : 0.5; };
      return { label: label, at: function (i) { return share(names.indexOf(String(values[i]))); },
               ticks: names.map(function (n, k) { return [share(k), n]; }) };
    }
    var lo = Math.min.apply(null, values), hi = Math.max.apply(null, values);
    var span = hi - lo;
    var at = function (v) { return span ? (v - lo) / span : 0.5; };
    var fmt = function (v) { return Number(v.toPrecision(4)).toString(); };
    return { label: label, at: function (i) { return at(values[i]); },
             ticks: span ? [[0, fmt(lo)], [1, fmt(hi)]] : [[0.5, fmt(lo)]] };
  }
  function colour(share) {  // dark blue (low) to yellow (high)
    var a = [48, 18, 130], b = [240, 200, 30];
    return "rgb(" + a.map(function (c, k) { return Math.round(c + (b[k] - c) * share); }) + ")";
  }

  function comparePage() {
    var runs = main.dataset.runs;
    var holder = document.getElementById("metrics");
    function poll() {
      getJSON(base + "/compare/metrics.json?runs=" + enc(runs)).then(function (body) {
        var byRun = {}, live = false;
        Object.keys(body.runs).forEach(function (run) {
          byRun[run] = body.runs[run].metrics || {};
          if (TERMINAL.indexOf(body.runs[run].status) < 0) live = true;
        });
        drawMetrics(holder, byRun);
        if (live) setTimeout(poll, 2000);
      }).catch(function () {});
    }
    poll();
  }

  function poolPage() {
    var div = document.getElementById("pool-chart");
    getJSON(base + "/computes/" + enc(main.dataset.pool) + "/history.json").then(function (b) {
      var x = b.points.map(function (p) { return p.time; });
      var lines = [["current_nodes", "current"], ["target_nodes", "target"],
                   ["idle_nodes", "idle"]].map(function (pair) {
        return { type: "scatter", mode: "lines+markers", line: { shape: "hv" }, name: pair[1],
                 x: x, y: b.points.map(function (p) { return p[pair[0]]; }) };
      });
      Plotly.react(div, lines,
                   { height: 280, margin: { l: 50, r: 20, t: 20, b: 50 },
                     yaxis: { title: { text: "nodes" }, rangemode: "tozero", dtick: 1 } }, PLOT);
      div.dataset.points = b.points.length;
    }).catch(function () {});
  }

  function endpointPage() {
    var name = main.dataset.endpoint;
    var form = document.getElementById("try-it");
    var answer = document.getElementById("try-answer");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var headers = { "Content-Type": "application/json" };
      var chosen = document.getElementById("try-deployment").value;
      if (chosen) headers["X-Deployment"] = chosen;
      answer.textContent = "Scoring…";
      fetch(form.action, { method: "POST", credentials: "same-origin", headers: headers,
                           body: document.getElementById("try-body").value })
        .then(function (r) {
          var by = r.headers.get("azureml-model-deployment");
          return r.text().then(function (text) {
            var shown = text;
            try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (e) {}
            answer.textContent = "HTTP " + r.status + (by ? " from " + by : "") + "\n" + shown;
            answer.dataset.status = r.status;
            refreshStats();
          });
        })
        .catch(function (e) { answer.textContent = String(e); });
    });
    function refreshStats() {
      getJSON(base + "/endpoints/" + enc(name) + "/stats.json").then(function (b) {
        var rows = Object.keys(b.deployments).sort().map(function (d) {
          var s = b.deployments[d];
          return [d || "(none)", s.requests, s.errors,
                  s.p50_ms == null ? "" : s.p50_ms.toFixed(2) + " ms",
                  s.p95_ms == null ? "" : s.p95_ms.toFixed(2) + " ms", s.last];
        });
        if (!rows.length) return;
        var table = document.createElement("table");
        table.className = "stats";
        var head = table.createTHead().insertRow();
        ["Deployment", "Requests", "Errors", "p50", "p95", "Last"].forEach(function (t) {
          var th = document.createElement("th"); th.textContent = t; head.appendChild(th);
        });
        var body = table.createTBody();
        rows.forEach(function (cells) {
          var tr = body.insertRow();
          cells.forEach(function (c) { tr.insertCell().textContent = c; });
        });
        var holder = document.getElementById("stats");
        holder.textContent = "";
        holder.appendChild(table);
      }).catch(function () {});
    }
    setInterval(refreshStats, 5000);
  }

  var pages = { run: runPage, compare: comparePage, pool: poolPage, endpoint: endpointPage };
  if (pages[main.dataset.page]) pages[main.dataset.page]();
})();
