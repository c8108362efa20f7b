// Keeps the delivery matrix of a broadcast current by polling its JSON (like fleet.js),
// and stops once every delivery has ended: nothing can change any more.
"use strict";
(function () {
  var INTERVAL_MS = 3000;
  var table = document.getElementById("matrix");
  if (!table || table.dataset.ended === "true") return;
  var status = document.getElementById("matrix-status");

  function cell(tag, value, attrs) {
    var el = document.createElement(tag);
    el.textContent = value || "";
    Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    return el;
  }

  function apply(data) {
    var head = document.createElement("tr");
    head.appendChild(cell("th", table.tHead.rows[0].cells[0].textContent, { scope: "col" }));
    head.appendChild(cell("th", table.tHead.rows[0].cells[1].textContent, { scope: "col" }));
    data.columns.forEach(function (c) { head.appendChild(cell("th", c.name, { scope: "col" })); });
    var last = table.tHead.rows[0].cells[table.tHead.rows[0].cells.length - 1].textContent;
    head.appendChild(cell("th", last, { scope: "col" }));
    var body = document.createElement("tbody");
    data.rows.forEach(function (r) {
      var tr = document.createElement("tr");
      tr.dataset.speaker = r.speaker_id;
      tr.appendChild(cell("th", r.speaker_id, { scope: "row" }));
      var state = cell("td", "", { "class": "state", "data-state": r.state });
      state.appendChild(cell("span", r.state_name, { "class": "badge state-" + r.state }));
      tr.appendChild(state);
      data.columns.forEach(function (c) { tr.appendChild(cell("td", r.times[c.key])); });
      tr.appendChild(cell("td", r.reason));
      body.appendChild(tr);
    });
    table.tHead.replaceChild(head, table.tHead.rows[0]);
    table.replaceChild(body, table.tBodies[0]);
    document.getElementById("matrix-updated").textContent = data.at;
    if (data.ended) {
      table.dataset.ended = "true";
      status.firstChild.textContent = status.dataset.ended + " ";
    }
  }

  function poll() {
    fetch(table.dataset.url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) {
        if (r.status === 401 || r.redirected) { window.location.reload(); return null; }
        return r.ok ? r.json() : null;
      })
      .then(function (data) { if (data) apply(data); })
      .catch(function () { /* offline for a moment: try again next tick */ })
      .finally(function () {
        if (table.dataset.ended !== "true") window.setTimeout(poll, INTERVAL_MS);
      });
  }
  window.setTimeout(poll, INTERVAL_MS);
})();
