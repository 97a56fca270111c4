// The public figures map: each published area coloured by its count class for the chosen month, with the count
// (or "fewer than k") as a permanent label, so the map reads without colour. Data comes in a json_script block;
// the month form also works without JavaScript (it reloads the page).
(function () {
  "use strict";
  var FILL = ["#d9dde3", "#c6dbef", "#8fbce0", "#3f83c2", "#0b3d78"];

  function style(cls) {
    return {
      color: "#1f2933", weight: 1.5, fillColor: FILL[cls] || FILL[0], fillOpacity: 0.65,
      dashArray: cls === 0 ? "4 3" : null
    };
  }

  function label(name, text) {
    var el = document.createElement("span");
    var strong = document.createElement("strong");
    strong.textContent = name;
    el.appendChild(strong);
    el.appendChild(document.createElement("br"));
    el.appendChild(document.createTextNode(text));
    return el;
  }

  function figuresMap(el, data) {
    var map = L.map(el, { maxZoom: 18 });
    var url = el.dataset.tileUrl;
    if (url) {
      L.tileLayer(url, { maxZoom: 18, attribution: el.dataset.tileAttribution || "" }).addTo(map);
    }
    // The view is set before any layer is added: Leaflet cannot draw vector layers on a map without one.
    var outline = data.outline ? L.geoJSON(data.outline, { style: { color: "#1d4e89", weight: 2, fill: false }, interactive: false }) : null;
    var shapes = [];
    data.areas.forEach(function (area) {
      L.geoJSON(area.geometry).getLayers().forEach(function (layer) { shapes.push({ area: area, layer: layer }); });
    });
    var bounds = L.latLngBounds([]);
    if (outline) { bounds.extend(outline.getBounds()); }
    shapes.forEach(function (s) { bounds.extend(s.layer.getBounds()); });
    if (bounds.isValid()) { map.fitBounds(bounds); } else { map.setView([62, 16], 4); }
    if (outline) { outline.addTo(map); }
    shapes.forEach(function (s) { s.layer.addTo(map); });

    function show(key) {
      var month = data.months.filter(function (m) { return m.key === key; })[0];
      if (!month) { return; }
      shapes.forEach(function (s) {
        var cell = s.area.cells[key];
        s.layer.setStyle(style(cell["class"]));
        s.layer.unbindTooltip();
        s.layer.bindTooltip(label(s.area.name, cell.text), { permanent: true, direction: "center", className: "count-label" });
      });
      data.summary.forEach(function (row) {
        var dd = document.getElementById(row.id);
        if (dd) { dd.textContent = row.cells[key]; }
      });
      document.querySelectorAll(".summary-month").forEach(function (span) { span.textContent = month.label; });
      el.dataset.month = key;
      declutter();
    }

    // Labels of neighbouring areas overlap when zoomed out; the ones with the higher counts are kept and the others
    // wait until there is room (the table lists every figure).
    function declutter() {
      var key = el.dataset.month;
      var order = shapes.slice().sort(function (a, b) { return b.area.cells[key]["class"] - a.area.cells[key]["class"]; });
      var kept = [];
      order.forEach(function (s) {
        var tip = s.layer.getTooltip();
        var node = tip && tip.getElement();
        if (!node) { return; }
        node.style.visibility = "";
        var r = node.getBoundingClientRect();
        var clash = kept.some(function (k) { return r.left < k.right && k.left < r.right && r.top < k.bottom && k.top < r.bottom; });
        if (clash) { node.style.visibility = "hidden"; } else { kept.push(r); }
      });
      el.dataset.labelsShown = String(kept.length);
    }

    map.on("zoomend", function () { window.requestAnimationFrame(declutter); });
    show(data.selected);
    var select = document.getElementById("month-select");
    if (select) {
      select.addEventListener("change", function () { show(select.value); });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("public-figures-map");
    var script = document.getElementById("public-figures-data");
    if (el && script && window.L) { figuresMap(el, JSON.parse(script.textContent)); }
  });
})();
