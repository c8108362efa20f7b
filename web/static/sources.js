// "Nghe thử": play a short preview the controller pulls from the station (same origin, so the
// page's Content-Security-Policy allows it, and HLS stations play in every browser).
document.querySelectorAll("button.listen").forEach(function (button) {
  button.addEventListener("click", function () {
    var audio = document.getElementById(button.getAttribute("aria-controls"));
    if (audio.paused) {
      audio.src = button.dataset.url + "?t=" + Date.now();
      audio.hidden = false;
      audio.play();
    } else {
      audio.pause();
      audio.removeAttribute("src");
      audio.load();
    }
  });
});
