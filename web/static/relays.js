// Tiếp sóng page: the schedule form's panels per kind, its summary and overlaps as the clerk
// types (like compose.js), and the running relays' states and seconds aired kept current by
// polling /relays.json (like broadcast.js), stopping once no relay is on air.
"use strict";
(function () {
  var INTERVAL_MS = 3000;
  var $ = function (id) { return document.getElementById(id); };

  // -- the schedule form --
  function scheduleForm(form) {
    var csrf = form.querySelector("input[name=csrf_token]").value;
    function showKinds() {
      var kind = $("kind").value;
      form.querySelectorAll(".kind[data-kinds]").forEach(function (p) {
        p.hidden = p.dataset.kinds.split(" ").indexOf(kind) < 0;
      });
    }
    var timer = null;
    function preview() {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        fetch(form.dataset.previewUrl, { method: "POST", credentials: "same-origin", body: new FormData(form),
                                         headers: { "X-CSRFToken": csrf, "Accept": "application/json" } })
          .then(function (r) { return r.json(); })
          .then(function (res) {
            var errors = Object.keys(res.errors || {}).map(function (k) { return res.errors[k]; });
            $("schedule-summary").textContent = [res.summary || ""].concat(errors).join(" ").trim() || "—";
            var list = $("schedule-conflicts");
            list.textContent = "";
            (res.conflicts || []).forEach(function (c) {
              var li = document.createElement("li");
              li.textContent = c;
              list.appendChild(li);
            });
          })
          .catch(function () {});
      }, 300);
    }
    showKinds();
    form.addEventListener("change", function () { showKinds(); preview(); });
    form.addEventListener("input", preview);
  }

  // -- the running relays --
  function relayList(section) {
    function apply(data) {
      data.relays.forEach(function (r) {
        var art = section.querySelector("article[data-relay='" + r.id + "']");
        if (!art) return;
        art.dataset.state = r.state;
        var badge = art.querySelector("h3 .badge");
        badge.className = "badge state-" + r.state;
        badge.textContent = r.state_name;
        if (r.state !== "running") {
          art.querySelectorAll("form.stop, .badge.flag").forEach(function (el) { el.remove(); });
        }
        r.deliveries.forEach(function (d) {
          var row = art.querySelector("tr[data-speaker='" + d.speaker_id + "']");
          if (!row) return;
          var state = row.querySelector("td.state");
          state.dataset.state = d.state;
          state.textContent = d.state_name;
          row.querySelector("td.aired").textContent = d.aired_s;
        });
      });
      var updated = $("relays-updated");
      updated.querySelector("span").textContent = data.at;
      updated.hidden = false;
      section.dataset.running = data.running ? "true" : "false";
    }
    function poll() {
      fetch(section.dataset.url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) {
          if (r.status === 401 || r.redirected) { window.location.reload(); return null; }
          return r.ok ? r.json() : null;
        })
        .then(function (data) { if (data) apply(data); })
        .catch(function () { /* offline for a moment: try again next tick */ })
        .finally(function () {
          if (section.dataset.running === "true") window.setTimeout(poll, INTERVAL_MS);
        });
    }
    if (section.dataset.running === "true") window.setTimeout(poll, INTERVAL_MS);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = $("schedule-relay");
    if (form) scheduleForm(form);
    var section = $("relay-list");
    if (section) relayList(section);
  });
})();
