// Tell the user a draft is waiting on this device (it comes back on the compose page).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var note = document.getElementById("draft-kept");
  try {
    if (note && window.localStorage.getItem("commune-radio:compose-draft")) note.hidden = false;
  } catch (e) { /* storage blocked */ }
});
