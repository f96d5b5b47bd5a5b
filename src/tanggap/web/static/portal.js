// Live deadline countdowns: every element with data-deadline shows the time left or the overrun.
(function () {
  function format(seconds) {
    const units = (document.body.dataset.units || "d h m").split(" ");
    const s = Math.abs(Math.round(seconds));
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    return (d ? d + units[0] + " " : "") + (d || h ? h + units[1] + " " : "") + m + units[2];
  }
  function tick() {
    const left = document.body.dataset.left || "left", overdue = document.body.dataset.overdue || "overdue by";
    document.querySelectorAll("[data-deadline]").forEach(function (el) {
      const seconds = (Date.parse(el.dataset.deadline) - Date.now()) / 1000;
      el.textContent = seconds >= 0 ? format(seconds) + " " + left : overdue + " " + format(seconds);
      el.classList.toggle("overdue", seconds < 0);
    });
  }
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSwap", tick);
  setInterval(tick, 1000);
})();
