// Compose page: panels per source / schedule kind, live spoken-text preview, audio preview,
// schedule summary and conflicts, browser recording, and a draft kept in localStorage so an
// expired session loses nothing.
"use strict";
(function () {
  var DRAFT_KEY = "commune-radio:compose-draft";
  var form = document.getElementById("compose-form");
  if (!form) return;
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var $ = function (id) { return document.getElementById(id); };

  function checked(name) {
    var el = form.querySelector("input[name=" + name + "]:checked");
    return el ? el.value : "";
  }

  // -- panels --
  function showPanels() {
    var source = checked("source") || "text";
    form.querySelectorAll(".panel[data-source]").forEach(function (p) { p.hidden = p.dataset.source !== source; });
    var when = checked("when") || "now";
    form.querySelectorAll(".panel[data-when]").forEach(function (p) { p.hidden = p.dataset.when !== when; });
    var kind = $("kind").value;
    form.querySelectorAll(".kind[data-kinds]").forEach(function (p) {
      p.hidden = p.dataset.kinds.split(" ").indexOf(kind) < 0;
    });
  }

  // -- draft on this device --
  function fields() {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.type !== "file" && el.type !== "hidden" && el.type !== "submit" && el.type !== "button";
    });
  }
  function saveDraft() {
    var data = {};
    fields().forEach(function (el) {
      if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked) (data[el.name] = data[el.name] || []).push(el.value);
      } else {
        data[el.name] = el.value;
      }
    });
    try { window.localStorage.setItem(DRAFT_KEY, JSON.stringify(data)); } catch (e) { /* full or blocked */ }
  }
  function restoreDraft() {
    // Only on a fresh form: after a server-side error the page already shows what was typed.
    if (form.dataset.fresh !== "1") return;
    var raw;
    try { raw = window.localStorage.getItem(DRAFT_KEY); } catch (e) { return; }
    if (!raw) return;
    var data;
    try { data = JSON.parse(raw); } catch (e) { return; }
    fields().forEach(function (el) {
      if (!(el.name in data)) return;
      var value = data[el.name];
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = Array.isArray(value) && value.indexOf(el.value) >= 0;
      } else {
        el.value = value;
      }
    });
    var note = $("draft-restored");
    if (note) note.hidden = false;
  }

  // -- previews --
  function postJson(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: JSON.stringify(body)
    });
  }
  var previewTimer = null;
  function previewText() {
    window.clearTimeout(previewTimer);
    previewTimer = window.setTimeout(function () {
      var text = $("text").value;
      if (!text.trim()) return;
      postJson(form.dataset.previewUrl, { text: text })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data) $("spoken-preview").textContent = data.spoken_text; })
        .catch(function () {});
    }, 350);
  }
  function listen() {
    var status = $("listen-status");
    status.textContent = status.dataset.busy || "…";
    $("listen").disabled = true;
    postJson(form.dataset.audioUrl, { text: $("text").value })
      .then(function (r) { return r.json().then(function (d) { return { ok: r.ok, data: d }; }); })
      .then(function (res) {
        if (!res.ok) { status.textContent = res.data.message || ""; return; }
        var audio = $("preview-audio");
        audio.src = res.data.url;
        audio.hidden = false;
        $("duration_ms").value = res.data.duration_ms;
        status.textContent = res.data.engine + " · " + (res.data.duration_ms / 1000).toFixed(1) + " s";
        audio.play().catch(function () {});
        checkSchedule();
      })
      .catch(function () { status.textContent = ""; })
      .finally(function () { $("listen").disabled = false; });
  }
  var scheduleTimer = null;
  function checkSchedule() {
    if ((checked("when") || "now") !== "schedule") return;
    window.clearTimeout(scheduleTimer);
    scheduleTimer = window.setTimeout(function () {
      var data = new FormData(form);
      data.delete("audio_file");
      fetch(form.dataset.scheduleUrl, { method: "POST", credentials: "same-origin", body: data,
                                        headers: { "X-CSRFToken": csrf, "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (res) {
          if (!res) return;
          var errors = Object.keys(res.errors || {}).map(function (k) { return res.errors[k]; });
          $("schedule-summary").textContent = res.summary || errors.join(" ") || "—";
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

  // -- recording in the browser --
  var recorder = null;
  var chunks = [];
  function startRecording() {
    var status = $("rec-status");
    if (!navigator.mediaDevices || !window.MediaRecorder) {
      status.textContent = status.dataset.unsupported || "MediaRecorder?";
      return;
    }
    navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
      chunks = [];
      recorder = new MediaRecorder(stream);
      recorder.ondataavailable = function (e) { if (e.data.size) chunks.push(e.data); };
      recorder.onstop = function () {
        stream.getTracks().forEach(function (t) { t.stop(); });
        var type = recorder.mimeType || "audio/webm";
        var file = new File(chunks, "recording.webm", { type: type });
        var dt = new DataTransfer();
        dt.items.add(file);
        $("audio_file").files = dt.files;  // sent with the form like an upload
        var audio = $("rec-audio");
        audio.src = URL.createObjectURL(file);
        audio.hidden = false;
        status.textContent = (file.size / 1024).toFixed(0) + " KB";
      };
      recorder.start();
      $("rec-start").disabled = true;
      $("rec-stop").disabled = false;
      status.textContent = "●";
    }).catch(function (err) { status.textContent = String(err); });
  }
  function stopRecording() {
    if (recorder && recorder.state !== "inactive") recorder.stop();
    $("rec-start").disabled = false;
    $("rec-stop").disabled = true;
  }

  document.addEventListener("DOMContentLoaded", function () {
    restoreDraft();
    showPanels();
    if ($("text").value.trim()) previewText();
    checkSchedule();
    form.addEventListener("change", function (e) {
      showPanels();
      saveDraft();
      if (e.target.name !== "text" && e.target.name !== "title") checkSchedule();
    });
    form.addEventListener("input", function (e) {
      saveDraft();
      if (e.target.id === "text") previewText();
      else if (e.target.closest("#schedule-fields")) checkSchedule();
    });
    $("listen").addEventListener("click", listen);
    $("rec-start").addEventListener("click", startRecording);
    $("rec-stop").addEventListener("click", stopRecording);
  });
})();
