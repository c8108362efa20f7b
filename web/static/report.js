// The print button of the period report (print CSS makes it a clean PDF).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("print");
  if (button) button.addEventListener("click", function () { window.print(); });
});
