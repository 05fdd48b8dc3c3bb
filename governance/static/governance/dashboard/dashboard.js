/* The dashboard's charts (Apache ECharts, vendored): each chart is drawn from
   the same numbers as the table beside it, read from the json_script blocks
   "dashboard-charts" and "dashboard-map" (no inline script: the CSP forbids it).
   Clicking a child's bar or a grid on the map opens that node's dashboard. */
(function () {
  "use strict";
  var CLASS_COLOURS = { A: "#1a7f37", B: "#2f6fdb", C: "#c62828", "": "#9e9e9e" };
  var PALETTE = ["#c62828", "#2f6fdb", "#1a7f37", "#f29f05", "#7b1fa2", "#00838f", "#6d4c41", "#546e7a"];

  function read(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function nodeUrl(id) {
    var root = document.getElementById("dashboard");
    var month = root.getAttribute("data-month");
    return root.getAttribute("data-node-url").replace(/\/0\/$/, "/" + id + "/") + "?month=" + month;
  }

  function pct(v) { return v === null ? null : Math.round(v * 1000) / 10; }
  function column(table, i) { return table.rows.map(function (r) { return r[i]; }); }
  function percentColumn(table, i) { return column(table, i).map(pct); }

  function base() {
    return {
      color: PALETTE,
      animation: false,
      tooltip: { trigger: "axis" },
      grid: { left: 48, right: 48, top: 36, bottom: 40, containLabel: true },
      legend: { top: 0, type: "scroll" }
    };
  }

  function options(table) {
    var o = base();
    var labels = column(table, 0);
    var cols = table.columns;
    if (table.chart === "trend") {
      o.xAxis = { type: "category", data: labels };
      o.yAxis = [{ type: "value", name: cols[1] }, { type: "value", name: "%", max: 100, min: 0 }];
      o.series = [
        { name: cols[1], type: "bar", data: column(table, 1) },
        { name: cols[2], type: "bar", data: column(table, 2) }
      ];
      for (var i = 3; i < cols.length; i++) {
        o.series.push({ name: cols[i], type: "line", yAxisIndex: 1, connectNulls: true, data: percentColumn(table, i) });
      }
    } else if (table.chart === "pie") {
      o.tooltip = { trigger: "item" };
      o.legend = { type: "scroll", orient: "vertical", right: 0, top: 10 };
      o.series = [{ type: "pie", radius: ["35%", "65%"], center: ["38%", "55%"],
        data: table.rows.map(function (r) { return { name: r[0], value: r[1] }; }) }];
      delete o.grid;
    } else if (table.chart === "rates" || table.chart === "coverage") {
      var pcols = table.percent;
      o.xAxis = { type: "category", data: labels, axisLabel: { interval: 0, rotate: 20 } };
      o.yAxis = { type: "value", max: 100, min: 0, name: "%" };
      o.series = pcols.map(function (i) { return { name: cols[i], type: "bar", data: percentColumn(table, i) }; });
    } else if (table.chart === "classes") {
      o.xAxis = { type: "category", data: labels };
      o.yAxis = { type: "value" };
      o.series = [1, 2].map(function (i) {
        return { name: cols[i], type: "bar", data: table.rows.map(function (r) {
          return { value: r[i], itemStyle: { color: CLASS_COLOURS[String(r[0]).charAt(0)] || PALETTE[0], opacity: i === 1 ? 1 : 0.45 } };
        }) };
      });
    } else if (table.chart === "children") {
      o.xAxis = { type: "category", data: labels, axisLabel: { interval: 0, rotate: labels.length > 6 ? 30 : 0 } };
      o.yAxis = [{ type: "value" }, { type: "value", max: 100, min: 0, name: "%" }];
      o.series = [
        { name: cols[1], type: "bar", data: column(table, 1) },
        { name: cols[2], type: "bar", data: column(table, 2) },
        { name: cols[5], type: "line", yAxisIndex: 1, connectNulls: true, data: percentColumn(table, 5) }
      ];
    } else if (table.chart === "bar2") {
      o.xAxis = { type: "category", data: labels, axisLabel: { interval: 0, rotate: 20 } };
      o.yAxis = { type: "value" };
      o.series = [1, 2].map(function (i) { return { name: cols[i], type: "bar", data: column(table, i) }; });
    } else {
      o.xAxis = { type: "category", data: labels, axisLabel: { interval: 0, rotate: 30 } };
      o.yAxis = { type: "value" };
      o.series = [{ name: cols[1], type: "bar", data: column(table, 1) }];
      o.legend = { show: false };
    }
    return o;
  }

  /* [[west, north], [east, south]] around every shape and centre point, so
     that grids drawn as points are inside the view too. */
  function bounds(data) {
    var west = Infinity, east = -Infinity, south = Infinity, north = -Infinity;
    function add(lon, lat) {
      west = Math.min(west, lon); east = Math.max(east, lon);
      south = Math.min(south, lat); north = Math.max(north, lat);
    }
    function walk(c) {
      if (typeof c[0] === "number") { add(c[0], c[1]); } else { c.forEach(walk); }
    }
    data.geojson.features.forEach(function (f) { walk(f.geometry.coordinates); });
    data.grids.forEach(function (g) { if (g.lon !== undefined) { add(g.lon, g.lat); } });
    var pad = Math.max(east - west, north - south) * 0.05 || 0.001;
    return [[west - pad, north + pad], [east + pad, south - pad]];
  }

  function drawMap(data) {
    var el = document.getElementById("chart-map");
    if (!el || !data) { return; }
    var chart = echarts.init(el, null, { renderer: "canvas" });
    var byId = {};
    data.grids.forEach(function (g) { byId[String(g.id)] = g; });
    var points = data.grids.filter(function (g) { return g.lon !== undefined && !g.shape; });
    var option = { animation: false, tooltip: { trigger: "item", formatter: function (p) {
      var g = byId[p.name] || (p.data && byId[p.data.id]);
      return g ? g.name + " · " + (g.cls || "–") : "";
    } } };
    var scatter = {
      type: "scatter", symbolSize: 9,
      data: points.map(function (g) {
        return { id: String(g.id), name: String(g.id), value: [g.lon, g.lat], itemStyle: { color: CLASS_COLOURS[g.cls] } };
      })
    };
    if (data.geojson.features.length) {
      echarts.registerMap("gw-grids", data.geojson);
      option.geo = { map: "gw-grids", roam: true, label: { show: false },
        boundingCoords: bounds(data),
        itemStyle: { borderColor: "#fff", borderWidth: 1 },
        regions: data.geojson.features.map(function (f) {
          var g = byId[f.properties.name];
          return { name: f.properties.name, itemStyle: { areaColor: CLASS_COLOURS[g ? g.cls : ""] } };
        }) };
      scatter.coordinateSystem = "geo";
      option.series = [scatter];
    } else {
      option.xAxis = { type: "value", scale: true, name: "E" };
      option.yAxis = { type: "value", scale: true, name: "N" };
      option.grid = { left: 48, right: 24, top: 24, bottom: 32 };
      option.series = [scatter];
    }
    chart.setOption(option);
    function open(name) { if (byId[name]) { window.location.href = nodeUrl(name); } }
    chart.on("click", function (p) { open(p.name || (p.data && p.data.id)); });
    chart.on("geoselectchanged", function (p) { open(p.name); });
    if (option.geo) {
      chart.on("click", { componentType: "geo" }, function (p) { open(p.name); });
    }
    return chart;
  }

  function start() {
    if (typeof echarts === "undefined") { return; }
    var charts = [];
    (read("dashboard-charts") || []).forEach(function (table) {
      var el = document.getElementById("chart-" + table.key);
      if (!el) { return; }
      var chart = echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(options(table));
      if (table.ids && table.ids.length) {
        chart.on("click", function (p) {
          var id = table.ids[p.dataIndex];
          if (id) { window.location.href = nodeUrl(id); }
        });
      }
      charts.push(chart);
    });
    var map = drawMap(read("dashboard-map"));
    if (map) { charts.push(map); }
    document.getElementById("dashboard").setAttribute("data-charts-ready", String(charts.length));
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
