// The progress of a running job, refreshed in place (docs/CONSOLE.md,
// "Jobs and progress"). Served by the ledger itself at
// /console/static/progress.js; the page works without it (its "Check
// again" link loads it afresh).
//
// Every few seconds (the status region's data-refresh-seconds) it fetches
// the job's own page and copies what changed into this one: while the job
// runs, the state, the progress bar and the count, inside the status
// region (role="status", aria-live="polite": a screen reader hears the
// change when it is idle); when the job is done, the status and the
// result, then it stops. Nothing is reloaded, so the focus and the reading
// position stay where they are.
(function () {
  "use strict";

  var status = document.getElementById("job-status");
  var body = document.getElementById("job-body");
  if (!status || !body || !status.hasAttribute("data-running")) {
    return;
  }
  var seconds = Number(status.getAttribute("data-refresh-seconds")) || 2;

  function later() {
    window.setTimeout(check, seconds * 1000);
  }

  // The text of `id` in `next` into the same element here, if it changed.
  function copyText(id, next) {
    var here = document.getElementById(id);
    var there = next.getElementById(id);
    if (here && there && here.textContent !== there.textContent) {
      here.textContent = there.textContent;
    }
    return Boolean(here) === Boolean(there);
  }

  // While running: only what changed, so that only that is announced.
  function progressed(next, nextStatus) {
    var same = copyText("job-state", next) && copyText("job-count", next);
    var bar = document.getElementById("job-progress");
    var nextBar = next.getElementById("job-progress");
    if (bar && nextBar) {
      bar.max = nextBar.max;
      bar.value = nextBar.value;
      bar.textContent = nextBar.textContent;
    } else if (bar || nextBar) {
      same = false;
    }
    if (!same) {
      status.innerHTML = nextStatus.innerHTML;
    }
  }

  // Done (finished or failed): the status and the result, in place.
  function done(next, nextStatus, nextBody) {
    status.removeAttribute("data-running");
    status.className = nextStatus.className;
    status.innerHTML = nextStatus.innerHTML;
    body.innerHTML = nextBody.innerHTML;
    var nav = document.querySelector("nav.site");
    var nextNav = next.querySelector("nav.site");
    if (nav && nextNav) {
      nav.innerHTML = nextNav.innerHTML;
    }
    document.title = next.title;
  }

  function check() {
    window
      .fetch(window.location.pathname, {
        credentials: "same-origin",
        cache: "no-store",
        headers: { Accept: "text/html" },
      })
      .then(function (response) {
        if (response.status >= 400 && response.status < 500) {
          // The job is gone (dropped, or no longer this key's): stop;
          // "Check again" shows why.
          return null;
        }
        if (!response.ok) {
          throw new Error("the job's page answered " + response.status);
        }
        return response.text();
      })
      .then(function (text) {
        if (text === null) {
          return;
        }
        var next = new DOMParser().parseFromString(text, "text/html");
        var nextStatus = next.getElementById("job-status");
        var nextBody = next.getElementById("job-body");
        if (!nextStatus || !nextBody) {
          // Not the job's page (signed out, say): stop; "Check again"
          // still leads there.
          return;
        }
        if (nextStatus.hasAttribute("data-running")) {
          progressed(next, nextStatus);
          later();
        } else {
          done(next, nextStatus, nextBody);
        }
      })
      .catch(function () {
        // A network hiccup or a busy server: try again later.
        later();
      });
  }

  later();
})();
