// Phát trực tiếp: microphone → MediaRecorder (250 ms WebM/Opus pieces) → numbered POSTs to the
// session's chunk URL, one at a time and in order (a retry keeps its number, the server drops
// duplicates). A level meter (AnalyserNode) and a timer show that the page hears the speaker.
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root) return;
  var d = root.dataset;
  var $ = function (id) { return document.getElementById(id); };
  var state = null;  // {id, ingest, stream, recorder, audioCtx, started, seq, queue, sending, failingSince}

  function say(text) { $("live-status").textContent = text || ""; }
  function fail(text) {
    var el = $("live-error");
    el.textContent = text || "";
    el.hidden = !text;
  }
  function source() { return root.querySelector("input[name=live-source]:checked").value; }
  function targets() {
    var names = Array.prototype.map.call(root.querySelectorAll("input[name=hamlets]:checked"),
                                         function (el) { return el.value; });
    if ($("live-all").checked) return { all: true };
    return names.length ? { hamlets: names } : null;
  }
  function post(url, body) {
    return fetch(url, { method: "POST", credentials: "same-origin",
                        headers: { "Content-Type": "application/json", "X-CSRFToken": d.csrf,
                                   "Accept": "application/json" },
                        body: JSON.stringify(body || {}) })
      .then(function (r) { return r.json().catch(function () { return {}; })
                                   .then(function (j) { return { ok: r.ok, status: r.status, data: j }; }); });
  }
  function withId(url, id) { return url.replace("/0/", "/" + id + "/"); }

  // -- microphone --
  function openMic() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.MediaRecorder) {
      return Promise.reject({ name: "Unsupported" });
    }
    return navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true } });
  }
  function micMessage(err) {
    var name = err && err.name;
    if (name === "NotAllowedError" || name === "SecurityError") return d.msgMicDenied;
    if (name === "NotFoundError" || name === "OverconstrainedError") return d.msgMicMissing;
    if (name === "Unsupported") return d.msgUnsupported;
    return d.msgMicMissing + " (" + String(err && (err.message || err)) + ")";
  }
  function meter(stream) {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return null;
    var ctx = new Ctx();
    var analyser = ctx.createAnalyser();
    analyser.fftSize = 1024;
    ctx.createMediaStreamSource(stream).connect(analyser);
    var buf = new Float32Array(analyser.fftSize);
    var shown = 0;
    function draw() {
      if (!state || state.audioCtx !== ctx) return;
      analyser.getFloatTimeDomainData(buf);
      var sum = 0;
      for (var i = 0; i < buf.length; i++) sum += buf[i] * buf[i];
      var rms = Math.sqrt(sum / buf.length);
      var level = Math.min(1, Math.max(0, (20 * Math.log10(rms + 1e-6) + 60) / 60));  // -60..0 dBFS
      shown = Math.max(level, shown * 0.97);  // fall back slowly, like a VU meter, so syllables show
      $("live-level").style.width = (shown * 100).toFixed(0) + "%";
      window.requestAnimationFrame(draw);
    }
    if (ctx.state === "suspended" && ctx.resume) ctx.resume();
    window.requestAnimationFrame(draw);  // after the caller has stored ctx in state
    return ctx;
  }

  // -- chunks, in order, one request at a time --
  function enqueue(blob) {
    if (!state || !blob.size) return;
    state.queue.push({ seq: state.seq++, blob: blob });
    pump();
  }
  function pump() {
    if (!state || state.sending || !state.queue.length) return;
    var item = state.queue[0];
    state.sending = true;
    fetch(state.ingest.chunk_url + "&seq=" + item.seq,
          { method: "POST", body: item.blob, headers: { "Content-Type": "application/octet-stream" } })
      .then(function (r) {
        if (!state) return;
        state.sending = false;
        if (r.ok) {
          state.queue.shift();
          state.failingSince = null;
          pump();
        } else if (r.status === 409 || r.status === 403) {
          finish(d.msgEndedServer, true);
        } else {
          retry();
        }
      })
      .catch(function () { if (state) { state.sending = false; retry(); } });
  }
  function retry() {
    var now = Date.now();
    state.failingSince = state.failingSince || now;
    if (now - state.failingSince > state.ingest.idle_s * 1000) {
      finish(d.msgLost, true);
      return;
    }
    window.setTimeout(pump, 300);
  }

  // -- session --
  function start() {
    fail("");
    var t = targets();
    if (!t) { fail(d.msgNoTargets); return; }
    var toggle = $("live-toggle");
    toggle.disabled = true;
    say(d.msgStarting);
    var useMic = source() === "mic";
    var mic = useMic ? openMic() : Promise.resolve(null);
    mic.then(function (stream) {
      return post(d.startUrl, { targets: t }).then(function (res) {
        if (!res.ok) {
          if (stream) stream.getTracks().forEach(function (tr) { tr.stop(); });
          throw { server: (res.data && res.data.message) || d.msgFailed };
        }
        begin(res.data, stream);
      });
    }).catch(function (err) {
      toggle.disabled = false;
      say("");
      fail(err && err.server ? err.server : micMessage(err));
    });
  }
  function begin(data, stream) {
    state = { id: data.id, ingest: data.ingest, stream: stream, started: Date.now(), seq: 0,
              queue: [], sending: false, failingSince: null, recorder: null, audioCtx: null };
    if (stream) {
      var opts = { audioBitsPerSecond: 48000 };
      if (MediaRecorder.isTypeSupported && MediaRecorder.isTypeSupported("audio/webm;codecs=opus")) {
        opts.mimeType = "audio/webm;codecs=opus";
      }
      state.recorder = new MediaRecorder(stream, opts);
      state.recorder.ondataavailable = function (e) { enqueue(e.data); };
      state.recorder.start(Math.round(data.ingest.chunk_seconds * 1000));
      state.audioCtx = meter(stream);
      say(d.msgOnAir);
    } else {
      showEncoder(data.ingest);
      say(d.msgWaitingEncoder);
    }
    $("live-onair").hidden = false;
    var toggle = $("live-toggle");
    toggle.textContent = d.msgStop;
    toggle.classList.add("on-air");
    toggle.disabled = false;
    state.clock = window.setInterval(tick, 1000);
    state.poll = window.setInterval(poll, 2000);
    tick();
  }
  function showEncoder(ing) {
    var ice = ing.icecast;
    $("enc-host").textContent = ice.host;
    $("enc-port").textContent = ice.port;
    $("enc-mount").textContent = ice.mount;
    $("enc-user").textContent = ice.username;
    $("enc-password").textContent = ice.password;
    $("enc-ffmpeg").textContent = "ffmpeg -f pulse -i default -ac 1 -c:a libopus -b:a 32k " +
      "-page_duration 60000 -content_type audio/ogg -f ogg icecast://" + ice.username + ":" +
      ice.password + "@" + ice.host + ":" + ice.port + ice.mount;
    $("live-encoder").hidden = false;
  }
  function tick() {
    if (!state) return;
    var s = Math.floor((Date.now() - state.started) / 1000);
    var mm = String(Math.floor(s / 60)).padStart(2, "0"), ss = String(s % 60).padStart(2, "0");
    $("live-timer").textContent = mm + ":" + ss;
  }
  function poll() {
    if (!state) return;
    var id = state.id;
    fetch(withId(d.statusUrl, id), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (v) {
        if (!v || !state || state.id !== id) return;
        var playing = v.deliveries.filter(function (x) { return x.state === "stream_playing"; }).length;
        $("live-speakers").textContent = d.msgSpeakers + ": " + playing + "/" + v.deliveries.length;
        if (v.state === "ended") finish(d.msgEndedServer, true);
      }).catch(function () {});
  }
  function finish(message, byServer) {
    if (!state) return;
    var s = state;
    state = null;
    window.clearInterval(s.clock);
    window.clearInterval(s.poll);
    if (s.recorder && s.recorder.state !== "inactive") s.recorder.stop();
    if (s.stream) s.stream.getTracks().forEach(function (t) { t.stop(); });
    if (s.audioCtx) s.audioCtx.close();
    $("live-level").style.width = "0";
    $("live-onair").hidden = true;
    $("live-encoder").hidden = true;
    var toggle = $("live-toggle");
    toggle.textContent = d.msgStart;
    toggle.classList.remove("on-air");
    toggle.disabled = false;
    if (byServer) fail(message); else say(message);
    if (!byServer) post(withId(d.stopUrl, s.id)).catch(function () {});
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("live-toggle").addEventListener("click", function () {
      if (state) finish(d.msgStopped, false); else start();
    });
    $("live-all").addEventListener("change", function (e) {
      root.querySelectorAll("input[name=hamlets]").forEach(function (el) {
        el.checked = e.target.checked;
        el.disabled = e.target.checked;
      });
    });
  });
})();
