// SPDX-License-Identifier: Apache-2.0
// The session-expiry warning (templates/parts/session_expiry.jinja2): shown
// data-warn-before seconds before the session ends, announced once in the
// live region; at the end the page goes to the chooser, which says why.
// Counts down from data-seconds-left, so the browser's clock does not matter.
// A static file: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var box = document.getElementById("session-expiry");
  if (!box) {
    return;
  }
  var warning = box.querySelector("[data-session-warning]");
  var live = box.querySelector("[data-session-live]");
  var message = box.querySelector("[data-session-message]");
  var warnBefore = parseInt(box.getAttribute("data-warn-before"), 10) * 1000;
  var end = Date.now() + parseInt(box.getAttribute("data-seconds-left"), 10) * 1000;
  var announced = false;

  function text(left) {
    var seconds = Math.max(0, Math.ceil(left / 1000));
    if (seconds >= 60) {
      return message.getAttribute("data-text-minutes").replace("%(minutes)s", String(Math.ceil(seconds / 60)));
    }
    return message.getAttribute("data-text-seconds").replace("%(seconds)s", String(seconds));
  }

  function tick() {
    var left = end - Date.now();
    if (left <= 0) {
      // one second late, so the server's deadline has surely passed
      window.clearInterval(timer);
      window.setTimeout(function () {
        window.location.assign(box.getAttribute("data-login-url"));
      }, 1000);
      return;
    }
    if (left > warnBefore) {
      return;
    }
    message.textContent = text(left);
    if (!announced) {
      announced = true;
      warning.hidden = false;
      live.textContent = warning.querySelector("h2").textContent + ". " + message.textContent;
    }
  }

  var timer = window.setInterval(tick, 1000);
  tick();
})();
