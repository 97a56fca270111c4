// The public site's report form (digital trygghetsvandring): a map to place one pin, by click or tap, by the
// device's position, or at the map's centre (for keyboards). The pin goes into the hidden lat/lon fields.
// Data comes in data- attributes and a json_script block: the pages carry no inline scripts.
(function () {
  "use strict";
  var SWEDEN = [62.0, 15.0];

  // Ray casting over a GeoJSON ring of [lon, lat] pairs.
  function inRing(lon, lat, ring) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if ((yi > lat) !== (yj > lat) && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) { inside = !inside; }
    }
    return inside;
  }

  function inPolygon(lon, lat, rings) {
    if (!inRing(lon, lat, rings[0])) { return false; }
    for (var k = 1; k < rings.length; k++) { if (inRing(lon, lat, rings[k])) { return false; } }
    return true;
  }

  // Unknown geometry types count as inside: the server checks the pin anyway.
  function contains(geometry, lon, lat) {
    if (!geometry) { return true; }
    if (geometry.type === "Polygon") { return inPolygon(lon, lat, geometry.coordinates); }
    if (geometry.type === "MultiPolygon") {
      return geometry.coordinates.some(function (rings) { return inPolygon(lon, lat, rings); });
    }
    return true;
  }

  function reportMap(el) {
    var data = document.getElementById("public-report-outline");
    var outline = data ? JSON.parse(data.textContent) : null;
    var lat = document.getElementById("id_lat");
    var lon = document.getElementById("id_lon");
    var status = document.getElementById("pin-status");
    var map = L.map(el, { maxZoom: 19 });
    if (el.dataset.tileUrl) {
      L.tileLayer(el.dataset.tileUrl, { maxZoom: 19, attribution: el.dataset.tileAttribution || "" }).addTo(map);
    }
    var layer = null;
    if (outline) {
      // The outline is drawn whether or not tiles load, so the map works offline.
      layer = L.geoJSON(outline, { style: { color: "#1d4e89", weight: 2, fill: false }, interactive: false }).addTo(map);
    }
    var marker = null;

    function place(latlng) {
      lat.value = latlng.lat.toFixed(6);
      lon.value = latlng.lng.toFixed(6);
      if (marker) {
        marker.setLatLng(latlng);
      } else {
        marker = L.marker(latlng, { draggable: true, keyboard: false }).addTo(map);
        marker.on("dragend", function () { place(marker.getLatLng()); });
      }
      status.textContent = contains(outline, latlng.lng, latlng.lat) ? el.dataset.placed : el.dataset.outside;
    }

    if (lat.value && lon.value) {
      var ll = L.latLng(parseFloat(lat.value), parseFloat(lon.value));
      place(ll);
      map.setView(ll, 16);
    } else if (layer && layer.getBounds().isValid()) {
      map.fitBounds(layer.getBounds());
    } else {
      map.setView(SWEDEN, 5);
    }
    map.on("click", function (e) { place(e.latlng); });

    var centre = document.getElementById("pin-at-centre");
    centre.hidden = false;
    centre.addEventListener("click", function () { place(map.getCenter()); });

    var position = document.getElementById("use-position");
    if (navigator.geolocation) {
      position.hidden = false;
      position.addEventListener("click", function () {
        status.textContent = el.dataset.locating;
        navigator.geolocation.getCurrentPosition(
          function (pos) {
            var here = L.latLng(pos.coords.latitude, pos.coords.longitude);
            place(here);
            map.setView(here, 17);
          },
          function () { status.textContent = el.dataset.positionFailed; },
          { enableHighAccuracy: true, timeout: 10000 }
        );
      });
    }
  }

  var el = document.getElementById("public-report-map");
  if (el && window.L) { reportMap(el); }
})();
