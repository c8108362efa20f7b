// Shared behaviour for every page (no inline script: the CSP forbids it).
"use strict";

// A form marked "once" is sent once: a double-click or a second Enter does nothing.
// The server also refuses a reused form token, so this is a courtesy, not the guard.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
    return;
  }
  if (!form.classList.contains("once")) return;
  if (form.dataset.sent === "1") {
    event.preventDefault();
    return;
  }
  form.dataset.sent = "1";
  // Disable after the browser has built the form data, so the submitter is still sent.
  window.setTimeout(function () {
    form.querySelectorAll("button[type=submit]").forEach(function (b) {
      b.disabled = true;
      b.setAttribute("aria-busy", "true");
    });
  }, 0);
});

// Coming back with the Back button shows the page from cache: let its forms work again.
window.addEventListener("pageshow", function (event) {
  if (!event.persisted) return;
  document.querySelectorAll("form.once").forEach(function (form) {
    form.dataset.sent = "";
    form.querySelectorAll("button[type=submit]").forEach(function (b) {
      b.disabled = false;
      b.removeAttribute("aria-busy");
    });
  });
});

// A page that confirms a saved draft clears the copy kept on this device.
document.addEventListener("DOMContentLoaded", function () {
  if (document.querySelector("[data-clear-draft]")) {
    try { window.localStorage.removeItem("commune-radio:compose-draft"); } catch (e) { /* private mode */ }
  }
});
