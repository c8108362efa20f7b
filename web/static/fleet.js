// Keeps the fleet page current by polling /fleet.json (no reload, no inline script).
"use strict";
(function () {
  var INTERVAL_MS = 5000;
  var root = document.getElementById("fleet");
  if (!root) return;
  var url = root.dataset.url;

  function text(el, value) { if (el && el.textContent !== value) el.textContent = value; }

  function flagsHtml(cell, flags) {
    cell.textContent = flags.length ? "" : root.dataset.healthy;
    flags.forEach(function (f) {
      var span = document.createElement("span");
      span.className = "badge flag";
      span.textContent = root.dataset["flag" + f.charAt(0).toUpperCase() + f.slice(1)] || f;
      cell.appendChild(span);
      cell.appendChild(document.createTextNode(" "));
    });
  }

  function apply(data) {
    data.speakers.forEach(function (s) {
      var row = document.getElementById("spk-" + s.id);
      if (row) {
        var presence = row.querySelector(".presence");
        presence.classList.toggle("online", s.online);
        presence.classList.toggle("offline", !s.online);
        text(presence, s.online ? root.dataset.online : root.dataset.offline);
        text(row.querySelector(".last-seen"), s.last_seen_local || "");
        text(row.querySelector(".playing"), s.playing || root.dataset.idle);
        text(row.querySelector(".volume"), s.volume === null || s.volume === undefined ? "—" : String(s.volume));
        flagsHtml(row.querySelector(".flags"), s.flags || []);
      }
      var pin = document.querySelector('#fleet-map .pin[data-speaker="' + s.id + '"]');
      if (pin) {
        pin.classList.toggle("online", s.online);
        pin.classList.toggle("offline", !s.online);
      }
    });
    text(document.getElementById("fleet-updated"), data.at);
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) {
        if (r.status === 401 || r.redirected) { window.location.reload(); return null; }
        return r.ok ? r.json() : null;
      })
      .then(function (data) { if (data) apply(data); })
      .catch(function () { /* offline for a moment: try again next tick */ })
      .finally(function () { window.setTimeout(poll, INTERVAL_MS); });
  }
  window.setTimeout(poll, INTERVAL_MS);
})();
