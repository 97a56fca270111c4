// Maps of measures: drawing a measure's place in the form, the measure's own map, and the map of all measures.
// Data comes in data- attributes and json_script blocks, so the pages need no inline scripts. Leaflet only.
(function () {
  "use strict";
  var YSTAD = [55.4295, 13.82];
  var DRAWN = { color: "#1d4e89", weight: 3, fillOpacity: 0.2 };
  var AREA = { color: "#6b7280", weight: 2, dashArray: "5 4", fillOpacity: 0.05 };

  function jsonData(id, fallback) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : fallback;
  }

  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]; });
  }

  function baseMap(el) {
    var map = L.map(el, { maxZoom: 19 });
    if (el.dataset.tileUrl) {
      L.tileLayer(el.dataset.tileUrl, { maxZoom: 19, attribution: el.dataset.tileAttribution || "" }).addTo(map);
    }
    // The municipality outlines are drawn whether or not tiles load, so the map is usable offline.
    var outlines = L.geoJSON(
      jsonData("outlines-data", []).map(function (o) { return { type: "Feature", geometry: o.geometry, properties: { name: o.name } }; }),
      { style: { color: "#1d4e89", weight: 1, fill: false }, interactive: false }
    );
    return { map: map, outlines: outlines };
  }

  // Sets the view to the first candidate layer that has a place, then adds the layers: a vector layer added to a
  // map before it has a view fails to draw.
  function fitAndAdd(map, candidates, layers) {
    var bounds = null;
    candidates.some(function (layer) { var b = layer.getBounds(); if (b.isValid()) { bounds = b; } return bounds; });
    if (bounds) { map.fitBounds(bounds, { maxZoom: 16 }); } else { map.setView(YSTAD, 12); }
    layers.forEach(function (layer) { layer.addTo(map); });
  }

  function areaLayer(areas) {
    return L.geoJSON(
      areas.map(function (a) { return { type: "Feature", geometry: a.geometry, properties: { name: a.name } }; }),
      { style: AREA, onEachFeature: function (f, layer) { layer.bindTooltip(escapeHtml(f.properties.name)); } }
    );
  }

  // The form: click to add corners; the hidden field holds a GeoJSON Polygon once there are three.
  function drawForm(el) {
    var m = baseMap(el);
    var map = m.map;
    var field = document.getElementById("id_polygon");
    var status = document.getElementById("draw-status");
    var areas = areaLayer(jsonData("areas-data", []));
    var corners = [];
    var shape = null;

    function render() {
      if (shape) { map.removeLayer(shape); shape = null; }
      if (corners.length >= 3) {
        shape = L.polygon(corners, DRAWN).addTo(map);
      } else if (corners.length) {
        shape = L.polyline(corners, DRAWN).addTo(map);
      }
    }

    function write() {
      if (corners.length >= 3) {
        var ring = corners.map(function (ll) { return [Number(ll.lng.toFixed(6)), Number(ll.lat.toFixed(6))]; });
        ring.push(ring[0].slice());
        field.value = JSON.stringify({ type: "Polygon", coordinates: [ring] });
        status.textContent = el.dataset.labelDrawn + " " + corners.length + " " + el.dataset.labelCorners;
      } else {
        field.value = "";
        status.textContent = corners.length ? corners.length + " " + el.dataset.labelCorners : el.dataset.labelCleared;
      }
      render();
    }

    if (field.value) {
      try {
        var ring = JSON.parse(field.value).coordinates[0];
        corners = ring.slice(0, -1).map(function (p) { return L.latLng(p[1], p[0]); });
      } catch (e) { corners = []; }
    }
    fitAndAdd(map, [L.polyline(corners), areas, m.outlines], [m.outlines, areas]);
    render();

    map.on("click", function (e) { corners.push(e.latlng); write(); });
    document.getElementById("draw-undo").addEventListener("click", function () { corners.pop(); write(); });
    document.getElementById("draw-clear").addEventListener("click", function () { corners = []; write(); });
    el.dataset.ready = "1";
  }

  // A measure's own map: its drawn place and the outlines of its areas.
  function detailMap(el) {
    var m = baseMap(el);
    var data = jsonData("measure-map-data", { polygon: null, areas: [] });
    var areas = areaLayer(data.areas);
    var drawn = L.geoJSON(data.polygon ? [data.polygon] : [], { style: DRAWN });
    fitAndAdd(m.map, [L.featureGroup([areas, drawn]), m.outlines], [m.outlines, areas, drawn]);
    el.dataset.ready = "1";
  }

  function popup(measures, detailUrl, openLabel) {
    return measures.map(function (p) {
      return "<strong>" + escapeHtml(p.title) + "</strong><br>" + escapeHtml(p.status_label) + ", " + escapeHtml(p.start) +
        "–" + (p.end ? escapeHtml(p.end) : "") + '<br><a href="' + detailUrl.replace("/0/", "/" + p.id + "/") + '">' + escapeHtml(openLabel) + "</a>";
    }).join("<hr>");
  }

  function byRole(fc, role) {
    return { type: "FeatureCollection", features: fc.features.filter(function (f) { return f.properties.role === role; }) };
  }

  // All visible measures: drawn places and the areas chosen for them, each with links to the measures.
  function measuresMap(el) {
    var m = baseMap(el);
    var map = m.map;
    var status = document.getElementById("map-status");
    fetch(el.dataset.geojsonUrl, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (fc) {
      var areas = L.geoJSON(byRole(fc, "area"), {
        style: AREA,
        onEachFeature: function (f, layer) {
          layer.bindTooltip(escapeHtml(f.properties.name));
          layer.bindPopup(popup(f.properties.measures, fc.detail_url, el.dataset.labelOpen));
        }
      });
      var drawn = L.geoJSON(byRole(fc, "measure"), {
        style: DRAWN,
        onEachFeature: function (f, layer) {
          layer.bindTooltip(escapeHtml(f.properties.title));
          layer.bindPopup(popup([f.properties], fc.detail_url, el.dataset.labelOpen));
        }
      });
      fitAndAdd(map, [L.featureGroup([areas, drawn]), m.outlines], [m.outlines, areas, drawn]);
      status.textContent = el.dataset.labelShown + " " + fc.count + (fc.without_place ? " (" + fc.without_place + " " + el.dataset.labelWithout + ")" : "");
      el.dataset.loaded = String(fc.count);
    }).catch(function (e) { status.textContent = String(e); fitAndAdd(map, [m.outlines], [m.outlines]); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var el;
    if ((el = document.getElementById("measure-draw-map"))) { drawForm(el); }
    if ((el = document.getElementById("measure-detail-map"))) { detailMap(el); }
    if ((el = document.getElementById("measure-map"))) { measuresMap(el); }
  });
})();

// The suggested places as numbered squares over the municipality's outline; the list above says the same in words.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var el = document.getElementById("suggestion-map");
  if (!el || !window.L) { return; }
  var map = L.map(el, { maxZoom: 19 });
  if (el.dataset.tileUrl) {
    L.tileLayer(el.dataset.tileUrl, { maxZoom: 19, attribution: el.dataset.tileAttribution || "" }).addTo(map);
  }
  var outlines = JSON.parse(document.getElementById("outlines-data").textContent);
  L.geoJSON(outlines.map(function (o) { return { type: "Feature", geometry: o.geometry, properties: {} }; }),
    { style: { color: "#1d4e89", weight: 2, fill: false }, interactive: false }).addTo(map);
  var places = JSON.parse(document.getElementById("places-data").textContent);
  var layer = L.featureGroup().addTo(map);
  places.forEach(function (p) {
    L.geoJSON({ type: "Feature", geometry: p.polygon, properties: {} },
      { style: { color: "#b3261e", weight: 2, fillOpacity: 0.25 } }).addTo(layer);
    L.marker([p.lat, p.lon], {
      icon: L.divIcon({ className: "place-number", html: "<span>" + p.rank + "</span>", iconSize: [24, 24] }),
      title: String(p.rank), keyboard: false
    }).on("click", function () {
      var item = document.getElementById("suggestion-" + p.rank);
      if (item) { item.scrollIntoView({ behavior: "smooth" }); }
    }).addTo(layer);
  });
  map.fitBounds(layer.getBounds(), { padding: [40, 40], maxZoom: 15 });
  el.dataset.loaded = String(places.length);
});
