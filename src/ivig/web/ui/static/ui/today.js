/* The "today" page: a countdown to each running infusion's next step and, if the user allows
   it, a browser notification when a step is due. Progressive enhancement: without JavaScript the
   page shows the clock time of the next step. No inline script (strict CSP). */
(function () {
  "use strict";
  var countdowns = Array.prototype.slice.call(document.querySelectorAll("time.countdown[data-due]"));
  if (!countdowns.length) { return; }
  var notified = {};
  var button = document.getElementById("notify-button");
  var status = document.getElementById("notify-status");
  var canNotify = "Notification" in window;

  function text(ms, el) {
    if (ms <= 0) { return el.getAttribute("data-now-text"); }
    var total = Math.floor(ms / 1000);
    var h = Math.floor(total / 3600);
    var m = Math.floor((total % 3600) / 60);
    var s = total % 60;
    var parts = h ? h + " h " + m + " min" : (m ? m + " min " + s + " s" : s + " s");
    return el.getAttribute("data-in-text").replace("{time}", parts);
  }

  function tick() {
    var now = Date.now();
    countdowns.forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) { return; }
      el.textContent = text(due - now, el);
      if (due - now <= 0) {
        el.classList.add("due");
        var key = el.getAttribute("data-due") + el.getAttribute("data-message");
        if (!notified[key] && canNotify && Notification.permission === "granted") {
          notified[key] = true;
          new Notification(button ? button.getAttribute("data-title") : "IVIG", {
            body: el.getAttribute("data-message"), tag: key
          });
        }
      }
    });
  }

  if (button && canNotify) {
    button.parentElement.hidden = false;
    if (Notification.permission === "granted") {
      status.textContent = button.getAttribute("data-granted");
    }
    button.addEventListener("click", function () {
      Notification.requestPermission().then(function (answer) {
        status.textContent = button.getAttribute(answer === "granted" ? "data-granted" : "data-denied");
      });
    });
  }
  tick();
  window.setInterval(tick, 1000);
}());
