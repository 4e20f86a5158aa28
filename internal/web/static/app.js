// medguard browser glue: CSRF header for htmx, confirmations, and ECharts charts built
// from JSON data blocks (no inline scripts, so the CSP can forbid them).
(function () {
  "use strict";
  document.addEventListener("htmx:configRequest", function (e) {
    var tok = document.body.dataset.csrf;
    if (tok) { e.detail.headers["X-CSRF-Token"] = tok; }
  });
  // A button with data-copy copies the value of the element it names (an authorization
  // code) and says so on itself for a moment.
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("button[data-copy]");
    if (!b) { return; }
    var src = document.getElementById(b.getAttribute("data-copy"));
    if (!src) { return; }
    var text = src.value !== undefined ? src.value : src.textContent;
    var done = function () {
      var was = b.textContent;
      b.textContent = b.getAttribute("data-copied") || was;
      window.setTimeout(function () { b.textContent = was; }, 1500);
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () { src.select(); });
    } else {
      src.select();
    }
  });
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { e.preventDefault(); }
  });

  // style is an item's own colour (severity colours, pass/fail), if it has one.
  function style(c) { return c.color ? { color: c.color } : undefined; }

  // Every label is laid out to be read whole, with ECharts' own options: a pie's legend
  // wraps onto as many rows as it needs (never paged) and names each slice with its count,
  // the pie shrinks to leave the legend room, its slices carry short percentages; category
  // labels wrap at spaces or turn when they do not fit their band; value ticks that would
  // run together are dropped (hideOverlap); long bar names wrap and their chart grows.
  var FONT = "12px sans-serif"; // ECharts' default label font
  var GAP = 10, ICON = 14, PAD = 5, LINE = 14, BLEED = 6;
  var measure = document.createElement("canvas").getContext("2d");
  function width(s) { measure.font = FONT; return measure.measureText(String(s)).width; }
  function widest(xs) { return xs.reduce(function (m, s) { return Math.max(m, width(s)); }, 0); }

  // legendText names a pie's slice with its count.
  function legendText(c) { return c.label + "  " + c.n; }

  // legendRows is how many rows ECharts' plain legend takes for texts in avail pixels.
  function legendRows(texts, avail) {
    var rows = 1, x = 0;
    texts.forEach(function (s) {
      var w = ICON + 5 + width(s);
      if (x > 0 && x + w > avail) { rows++; x = 0; }
      x += w + GAP;
    });
    return rows;
  }

  // legendHeight estimates the height of a pie's legend before ECharts lays it out.
  function legendHeight(spec, W) {
    var rows = legendRows(spec.items.map(legendText), W - 2 * PAD);
    return rows * LINE + (rows - 1) * GAP + 2 * PAD;
  }

  // pieOption lays a pie out above its legend of legendH pixels.
  function pieOption(spec, W, H, legendH) {
    var names = {};
    spec.items.forEach(function (c) { names[c.label] = legendText(c); });
    var areaH = H - legendH - 6;
    // Room around the ring for the percentage labels ("100%"), their lines (6 + 6) and
    // the margin ECharts keeps to the edge (bleedMargin).
    var r = Math.max(24, Math.min(W / 2 - 12 - width("100%") - 2 * BLEED, areaH / 2 - 12 - LINE - BLEED));
    return {
      tooltip: { trigger: "item" },
      legend: { type: "plain", bottom: 0, left: "center", itemWidth: ICON, itemHeight: 10, itemGap: GAP,
        formatter: function (name) { return names[name] || name; } },
      series: [{
        type: "pie", center: [W / 2, areaH / 2], radius: [Math.round(r * 0.56), Math.round(r)],
        percentPrecision: 1, avoidLabelOverlap: true, bleedMargin: BLEED,
        label: { formatter: function (p) { return p.percent > 0 && p.percent < 1 ? "<1%" : Math.round(p.percent) + "%"; }, minMargin: 2 }, labelLine: { length: 6, length2: 6 },
        labelLayout: { hideOverlap: true },
        data: spec.items.map(function (c) { return { name: c.label, value: c.n, itemStyle: style(c) }; })
      }]
    };
  }

  function barOption(spec, W) {
    var labels = spec.items.map(function (c) { return c.label; });
    var values = { type: "value", minInterval: 1, splitNumber: spec.horizontal ? 3 : 5, axisLabel: { hideOverlap: true } };
    var category = { type: "category", data: labels, axisLabel: { interval: 0 } };
    if (spec.horizontal) {
      // Names take at most half the width; longer ones wrap at spaces (or between CJK characters).
      var max = Math.floor(W * 0.5);
      if (widest(labels) > max) { category.axisLabel.width = max; category.axisLabel.overflow = "break"; }
    } else {
      // The band of one category, once the grid's margins and the value labels are off.
      var top = spec.items.reduce(function (m, c) { return Math.max(m, c.n); }, 0);
      var band = (W - 24 - width(String(top)) - 16) / Math.max(1, labels.length);
      if (widest(labels) > band - 6) {
        var words = [];
        labels.forEach(function (s) { words = words.concat(String(s).split(/\s+/)); });
        if (widest(words) <= band - 6) {
          category.axisLabel.width = Math.floor(band - 6); category.axisLabel.overflow = "break";
        } else {
          category.axisLabel.rotate = 40;
        }
      }
    }
    return {
      tooltip: { trigger: "axis" },
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      xAxis: spec.horizontal ? values : category,
      yAxis: spec.horizontal ? category : values,
      series: [{ type: "bar", data: spec.items.map(function (c) { return { value: c.n, itemStyle: style(c) || { color: "#0b6e99" } }; }) }]
    };
  }

  // lineOption draws one line per series over the category labels spec.x (event rates
  // per system); the legend sits under the plot, ticks that would run together are dropped.
  function lineOption(spec, W) {
    var rows = legendRows(spec.series.map(function (s) { return s.name; }), W - 2 * PAD);
    var legendH = rows * LINE + (rows - 1) * GAP + 2 * PAD;
    return {
      tooltip: { trigger: "axis" },
      legend: { type: "plain", top: 0, left: "center", itemWidth: ICON, itemHeight: 10, itemGap: GAP },
      grid: { left: 8, right: 24, top: legendH + 12, bottom: 8, containLabel: true },
      // The first tick label starts at the axis and the last ends at it, clear of the value labels.
      xAxis: { type: "category", boundaryGap: false, data: spec.x,
        axisLabel: { hideOverlap: true, alignMinLabel: "left", alignMaxLabel: "right" } },
      // A score chart (ymax) runs from 0 to the highest score and marks every value: its
      // history may hold a single evaluation.
      yAxis: { type: "value", minInterval: 1, splitNumber: 4, axisLabel: { hideOverlap: true },
        min: spec.ymax ? 0 : undefined, max: spec.ymax || undefined, interval: spec.ymax ? spec.ymax / 5 : undefined },
      series: spec.series.map(function (s) { return { type: "line", name: s.name, data: s.data, showSymbol: !!spec.symbols, symbolSize: spec.symbols ? 7 : 4, connectNulls: false }; })
    };
  }

  // chartHeight is the height a chart needs for its labels to be read, never lower than
  // its container: a horizontal bar chart makes each bar as high as its name's lines, a
  // pie keeps a ring of a readable size above a legend of many rows.
  function chartHeight(spec, W, H) {
    if (spec.type === "line" || spec.type === "echarts") { return H; }
    if (spec.type === "pie") {
      return Math.max(H, legendHeight(spec, W) + 6 + 2 * (64 + 12 + LINE + BLEED));
    }
    if (!spec.horizontal) { return H; }
    var max = Math.floor(W * 0.5);
    var need = spec.items.reduce(function (sum, c) { return sum + LINE * Math.ceil(Math.max(1, width(c.label)) / max) + 8; }, 0);
    return Math.max(H, need + 50);
  }

  function charts(root) {
    if (!window.echarts) { return; }
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.dataset.ready) { return; }
      var src = document.getElementById(el.getAttribute("data-chart"));
      if (!src) { return; }
      var spec = JSON.parse(src.textContent);
      var h = chartHeight(spec, el.clientWidth, el.clientHeight);
      if (h > el.clientHeight) { el.style.height = h + "px"; }
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      var draw = function () {
        var W = chart.getWidth(), H = chart.getHeight();
        if (spec.type === "echarts") { // an overview chart: its option as defined on the server
          chart.setOption(spec.option, { notMerge: true });
          return;
        }
        if (spec.type === "line") {
          chart.setOption(lineOption(spec, W), { notMerge: true });
          return;
        }
        if (spec.type !== "pie") {
          chart.setOption(barOption(spec, W), { notMerge: true });
          return;
        }
        chart.setOption(pieOption(spec, W, H, legendHeight(spec, W)), { notMerge: true });
        // Once ECharts has laid the legend out, fit the ring to the room it really left.
        var legend = chart.getModel().getComponent("legend");
        var view = legend && chart.getViewOfComponentModel(legend);
        if (view) {
          chart.setOption(pieOption(spec, W, H, Math.ceil(view.group.getBoundingRect().height) + 2 * PAD), { notMerge: true });
        }
      };
      draw();
      // A click on a bar or slice opens the list that shows what it counts.
      if (spec.links) {
        chart.on("click", function (p) {
          var u = spec.links[p.seriesName + "/" + p.name] || spec.links[p.name];
          if (u) { window.location.href = u; }
        });
      }
      el.dataset.ready = "1";
      window.addEventListener("resize", function () { if (!chart.isDisposed()) { chart.resize(); draw(); } });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { charts(document); });
  // Charts about to be replaced (a refreshed dashboard) let go of their instances.
  document.addEventListener("htmx:beforeSwap", function (e) {
    if (!window.echarts || !e.detail.target) { return; }
    e.detail.target.querySelectorAll("[data-chart]").forEach(function (el) {
      var c = window.echarts.getInstanceByDom(el);
      if (c) { c.dispose(); }
    });
  });
  document.addEventListener("htmx:afterSwap", function (e) { charts(e.target); });
})();
