// medguard browser glue: CSRF header for htmx, confirmations, and ECharts charts built
// from JSON data blocks (no inline scripts, so the CSP can forbid them).
(function () {
  "use strict";
  document.addEventListener("htmx:configRequest", function (e) {
    var tok = document.body.dataset.csrf;
    if (tok) { e.detail.headers["X-CSRF-Token"] = tok; }
  });
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { e.preventDefault(); }
  });

  // style is an item's own colour (severity colours, pass/fail), if it has one.
  function style(c) { return c.color ? { color: c.color } : undefined; }

  function charts(root) {
    if (!window.echarts) { return; }
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.dataset.ready) { return; }
      var src = document.getElementById(el.getAttribute("data-chart"));
      if (!src) { return; }
      var spec = JSON.parse(src.textContent);
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      var option;
      if (spec.type === "pie") {
        option = {
          tooltip: { trigger: "item" },
          legend: { bottom: 0, type: "scroll" },
          series: [{ type: "pie", radius: ["38%", "68%"], data: spec.items.map(function (c) { return { name: c.label, value: c.n, itemStyle: style(c) }; }) }]
        };
      } else {
        option = {
          tooltip: { trigger: "axis" },
          grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
          xAxis: spec.horizontal ? { type: "value", minInterval: 1 } : { type: "category", data: spec.items.map(function (c) { return c.label; }), axisLabel: { interval: 0, rotate: spec.items.length > 6 ? 30 : 0 } },
          yAxis: spec.horizontal ? { type: "category", data: spec.items.map(function (c) { return c.label; }) } : { type: "value", minInterval: 1 },
          series: [{ type: "bar", data: spec.items.map(function (c) { return { value: c.n, itemStyle: style(c) || { color: "#0b6e99" } }; }) }]
        };
      }
      chart.setOption(option);
      el.dataset.ready = "1";
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { charts(document); });
  document.addEventListener("htmx:afterSwap", function (e) { charts(e.target); });
})();
