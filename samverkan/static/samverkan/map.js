// Maps of Samverkan: the report form's pin, the report's own map, and the clustered map of reports.
// Data comes in data- attributes and json_script blocks, so the pages need no inline scripts.
(function () {
  "use strict";
  var YSTAD = [55.4295, 13.82];

  function outlines() {
    var el = document.getElementById("outlines-data");
    return el ? JSON.parse(el.textContent) : [];
  }

  function baseMap(el, options) {
    // maxZoom is set on the map itself: clustering needs it even when no tile layer provides one.
    var map = L.map(el, Object.assign({ maxZoom: 19 }, options || {}));
    var url = el.dataset.tileUrl;
    if (url) {
      L.tileLayer(url, { maxZoom: 19, attribution: el.dataset.tileAttribution || "" }).addTo(map);
    }
    // Our own outlines are drawn whether or not tiles load, so the map is usable offline.
    var layer = L.geoJSON(
      outlines().map(function (o) { return { type: "Feature", geometry: o.geometry, properties: { name: o.name } }; }),
      { style: { color: "#1d4e89", weight: 2, fill: false }, interactive: false }
    ).addTo(map);
    return { map: map, outlineLayer: layer };
  }

  function fit(map, layer, fallback, zoom) {
    var b = layer.getBounds();
    if (b.isValid()) { map.fitBounds(b); } else { map.setView(fallback, zoom); }
  }

  function reportForm(el) {
    var m = baseMap(el);
    var map = m.map;
    var lat = document.getElementById("id_lat");
    var lon = document.getElementById("id_lon");
    var status = document.getElementById("pin-status");
    var marker = null;
    function place(latlng, text) {
      lat.value = latlng.lat.toFixed(6);
      lon.value = latlng.lng.toFixed(6);
      if (marker) { marker.setLatLng(latlng); } else { marker = L.marker(latlng, { draggable: true }).addTo(map); marker.on("dragend", function () { place(marker.getLatLng(), status.textContent); }); }
      if (text) { status.textContent = text; }
    }
    if (lat.value && lon.value) {
      var ll = L.latLng(parseFloat(lat.value), parseFloat(lon.value));
      place(ll);
      map.setView(ll, 15);
    } else {
      fit(map, m.outlineLayer, YSTAD, 12);
    }
    map.on("click", function (e) { place(e.latlng, el.dataset.placed || "✓"); });
    var btn = document.getElementById("use-position");
    if (btn) {
      if (!navigator.geolocation) { btn.hidden = true; }
      btn.addEventListener("click", function () {
        navigator.geolocation.getCurrentPosition(function (pos) {
          var ll = L.latLng(pos.coords.latitude, pos.coords.longitude);
          place(ll, "✓");
          map.setView(ll, 16);
        }, function (err) { status.textContent = err.message; }, { enableHighAccuracy: true, timeout: 10000 });
      });
    }
  }

  function detail(el) {
    var m = baseMap(el, { zoomControl: true });
    var ll = L.latLng(parseFloat(el.dataset.lat), parseFloat(el.dataset.lon));
    L.marker(ll).addTo(m.map);
    m.map.setView(ll, 15);
  }

  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]; });
  }

  function reportMap(el) {
    var m = baseMap(el);
    var map = m.map;
    fit(map, m.outlineLayer, YSTAD, 11);
    var status = document.getElementById("map-status");
    fetch(el.dataset.areasUrl, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (fc) {
      L.geoJSON(fc, {
        style: { color: "#6b7280", weight: 1, dashArray: "4 3", fillOpacity: 0.03 },
        onEachFeature: function (f, layer) { layer.bindTooltip(escapeHtml(f.properties.name)); }
      }).addTo(map);
    });
    fetch(el.dataset.geojsonUrl, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (fc) {
      var cluster = L.markerClusterGroup({ chunkedLoading: true });
      var detailUrl = el.dataset.detailUrl;
      var points = L.geoJSON(fc, {
        pointToLayer: function (f, latlng) { return L.marker(latlng, { title: f.properties.category }); },
        onEachFeature: function (f, layer) {
          var p = f.properties;
          layer.bindPopup("<strong>" + escapeHtml(p.category) + "</strong><br>" + escapeHtml(p.occurred) +
            '<br><a href="' + detailUrl.replace("/0/", "/" + p.id + "/") + '">' + escapeHtml(el.dataset.labelOpen) + "</a>");
        }
      });
      cluster.addLayer(points);
      map.addLayer(cluster);
      status.textContent = fc.features.length + " " + el.dataset.labelShown + (fc.truncated ? ". " + el.dataset.labelTruncated : "");
      el.dataset.loaded = String(fc.features.length);
    }).catch(function (e) { status.textContent = String(e); });
  }

  // The situational picture: our outline, the KDE and Gi* layers as image overlays, switchable, with a legend.
  function pictureMap(el) {
    var m = baseMap(el);
    var map = m.map;
    fit(map, m.outlineLayer, YSTAD, 11);
    var bounds = JSON.parse(el.dataset.bounds || "null");
    var overlays = {};
    if (bounds && el.dataset.kde) {
      overlays[el.dataset.labelKde] = L.imageOverlay(el.dataset.kde, bounds, { opacity: 0.75, alt: el.dataset.labelKde }).addTo(map);
    }
    if (bounds && el.dataset.gi) {
      overlays[el.dataset.labelGi] = L.imageOverlay(el.dataset.gi, bounds, { opacity: 0.9, alt: el.dataset.labelGi }).addTo(map);
    }
    if (Object.keys(overlays).length) {
      L.control.layers(null, overlays, { collapsed: false }).addTo(map);
    }
    el.dataset.loaded = "1";
  }

  document.addEventListener("DOMContentLoaded", function () {
    var el;
    if ((el = document.getElementById("picture-map"))) { pictureMap(el); }
    if ((el = document.getElementById("report-map"))) { reportForm(el); }
    if ((el = document.getElementById("detail-map"))) { detail(el); }
    if ((el = document.getElementById("incident-map"))) { reportMap(el); }
  });
})();
