// SPDX-License-Identifier: Apache-2.0
// Submits the first form[data-auto-submit] once the page has loaded: the
// SAML HTTP-POST binding without inline script (the CSP forbids it).
// Without JavaScript the user presses the form's visible button.
(function () {
  "use strict";
  function submitOnce() {
    var form = document.querySelector("form[data-auto-submit]");
    if (!form || form.hasAttribute("data-submitted")) {
      return;
    }
    form.setAttribute("data-submitted", "");
    form.submit();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", submitOnce);
  } else {
    submitOnce();
  }
})();
