/* Citizen's phone page (/t/{id}?key=KEY, the QR on the receipt): place in line,
 * live over /ws?ticket=ID&key=KEY; when called, a full-screen notice and a
 * vibration; after the service, the 好差评 form (score and four dimensions).
 * The first rating wins: rated at the window's pad (rating.closed for this
 * ticket, or `rated` in the ticket when the page opens), the form gives way to
 * "已评价，谢谢". */
(function () {
  "use strict";
  var CH = window.CH;
  CH.page = "phone";

  var m = window.location.pathname.match(/\/t\/([^/]+)\/?$/);
  var id = m ? decodeURIComponent(m[1]) : null;
  var key = new URLSearchParams(window.location.search).get("key");
  var ticket = null;
  var lastStatus = null;
  var dismissedCall = null; // the call (number@window) the citizen has acknowledged
  var rated = false;
  var thanksKey = null; // what the rating box says once rated (a strings key)
  var submitting = false;
  var scores = {};
  var serviceNames = {};
  var DIMS = ["score", "attitude", "efficiency", "professionalism", "integrity"];

  CH.applyStrings();
  CH.$("#langBtn").addEventListener("click", function () { CH.toggleLang(); });
  CH.onlang = function () { buildScores(); render(); };
  CH.$("#calledOk").addEventListener("click", function () {
    CH.$("#called").hidden = true;
    if (ticket) dismissedCall = ticket.number + "@" + windowOf(ticket);
  });
  CH.$("#rateForm").addEventListener("submit", submitRating);
  buildScores();

  if (!id || !key) { CH.showBlockerKeys("no_key_title", "no_key_detail"); return; }

  var auth = "ticket=" + encodeURIComponent(id) + "&key=" + encodeURIComponent(key);
  load();
  CH.api("GET", "/api/services", null, null).then(function (res) {
    if (res.ok && res.data && res.data.services) { serviceNames = {}; res.data.services.forEach(function (x) { serviceNames[x.code] = x.name; }); render(); }
  });
  // The queue's state says nothing of this ticket's place in line, so the page
  // reads its ticket again whenever the queue changes (the snapshot, and the
  // queue.changed after each burst of events), and at once when it is called.
  var reload = CH.debounce(load, 300);
  new CH.Live(auth, {
    poll: function () { return load().then(function (ok) { return ok; }); },
    onstatus: function (s) {
      CH.$("#offline").hidden = s !== "offline";
      if (s === "unauthorized") CH.showBlockerKeys("no_key_title", "bad_key_detail");
    },
    onstate: function () { reload(); },
    onevent: function (msg) {
      if (msg.event === "ticket.called" && ticket && msg.ticket && msg.ticket.number === ticket.number) load();
      // rated at the pad: the answer to our own rating, if one is on its way, says it instead
      if (msg.event === "rating.closed" && msg.ticket && msg.ticket.id === id && !rated && !submitting) {
        rated = true;
        render();
      }
    }
  });
  // a slow re-read as well, for networks that drop WebSockets quietly
  setInterval(load, 30000);

  function load() {
    return CH.api("GET", "/api/tickets/" + encodeURIComponent(id) + "?key=" + encodeURIComponent(key), null, null).then(function (res) {
      if (res.status === 404 || res.status === 401 || res.status === 403) {
        CH.showBlockerKeys("no_key_title", "bad_key_detail");
        return false;
      }
      if (!res.ok || !res.data || !res.data.ticket) return false;
      CH.hideBlocker();
      ticket = res.data.ticket;
      if (ticket.rated || ticket.rating) rated = true;
      CH.$("#updated").textContent = CH.t("updated", { t: CH.pad2(new Date().getHours()) + ":" + CH.pad2(new Date().getMinutes()) + ":" + CH.pad2(new Date().getSeconds()) });
      render();
      return true;
    });
  }

  function windowOf(t) {
    if (!t) return null;
    if (typeof t.window === "number" || typeof t.window === "string") return t.window;
    if (t.window && t.window.number !== undefined) return t.window.number;
    return t.window_number !== undefined ? t.window_number : null;
  }

  function render() {
    if (!ticket) return;
    CH.$("#main").hidden = false;
    CH.$("#number").textContent = ticket.number;
    var sname = ticket.service_name || serviceNames[ticket.service];
    CH.$("#service").textContent = (sname ? ticket.service + " · " + sname : ticket.service) +
      (ticket.category && ticket.category !== "normal" ? " · " + CH.categoryName(ticket.category) : "");
    var st = CH.$("#status");
    st.textContent = CH.t("tstatus_" + ticket.status);
    st.className = "status " + ticket.status;
    var waiting = ticket.status === "waiting";
    CH.$("#waitBox").hidden = !waiting;
    if (waiting) {
      CH.$("#ahead").textContent = ticket.ahead === null || ticket.ahead === undefined ? "—" : CH.t("ahead_n", { n: ticket.ahead });
      CH.$("#wait").textContent = CH.fmtTicketWait(ticket);
    }
    renderNote();
    CH.$("#rating").hidden = ticket.status !== "done";
    if (ticket.status === "done" && rated) showThanks(thanksKey || "rate_closed");

    var win = windowOf(ticket);
    if (ticket.status === "called" && dismissedCall !== ticket.number + "@" + win) {
      CH.$("#calledNumber").textContent = ticket.number;
      CH.$("#calledGo").textContent = CH.t("called_go", { n: win === null ? "?" : win });
      if (CH.$("#called").hidden && navigator.vibrate) navigator.vibrate([400, 200, 400, 200, 800]);
      CH.$("#called").hidden = false;
    } else if (ticket.status !== "called") {
      CH.$("#called").hidden = true;
    }
    lastStatus = ticket.status;
  }

  function renderNote() {
    var note = CH.clear(CH.$("#note"));
    var text = null;
    if (ticket.status === "suspended") text = CH.t("suspended_note");
    else if (ticket.status === "no_show") text = CH.t("no_show_note");
    else if (ticket.status === "done") text = CH.t("done_note");
    else if (ticket.status === "serving" || ticket.status === "called") {
      var w = windowOf(ticket);
      text = w === null ? null : CH.t("called_go", { n: w });
    }
    note.hidden = !text;
    if (!text) return;
    note.appendChild(CH.el("div", { text: text }));
    var missing = ticket.missing || (ticket.suspension && ticket.suspension.missing);
    if (ticket.status === "suspended" && missing && missing.length) {
      note.appendChild(CH.el("div", { text: CH.t("missing_docs") }));
      note.appendChild(CH.el("ul", {}, missing.map(function (x) { return CH.el("li", { text: x }); })));
    }
  }

  /* ---------- rating ---------- */

  function buildScores() {
    document.querySelectorAll(".scores").forEach(function (box) {
      var dim = box.getAttribute("data-dim");
      CH.clear(box);
      [5, 4, 3, 2, 1].forEach(function (n) {
        var overall = dim === "score";
        box.appendChild(CH.el("button", {
          type: "button", "data-score": n, "aria-pressed": scores[dim] === n ? "true" : "false",
          "aria-label": CH.t("rate_" + n), title: CH.t("rate_" + n),
          onclick: function () { choose(dim, n); }
        }, overall ? [CH.el("span", { class: "stars", "aria-hidden": "true", text: "★".repeat(n) }), CH.el("span", { class: "word", text: CH.t("rate_" + n) })]
          : [String(n), CH.el("span", { class: "star1", "aria-hidden": "true", text: "★" })]));
      });
    });
  }

  function choose(dim, n) {
    scores[dim] = n;
    // the overall score pre-fills the dimensions not chosen yet; each can still be changed
    if (dim === "score") DIMS.slice(1).forEach(function (d) { if (!scores["_" + d]) scores[d] = n; });
    else scores["_" + dim] = true;
    buildScores();
    CH.$("#rateMsg").textContent = "";
  }

  function submitRating(e) {
    e.preventDefault();
    if (DIMS.some(function (d) { return !scores[d]; })) { CH.$("#rateMsg").textContent = CH.t("rate_need"); return; }
    var body = {
      ticket: id, key: key, score: scores.score,
      dimensions: { attitude: scores.attitude, efficiency: scores.efficiency, professionalism: scores.professionalism, integrity: scores.integrity }
    };
    var comment = CH.$("#comment").value.trim();
    if (comment) body.comment = comment;
    CH.$("#rateSubmit").disabled = true;
    submitting = true;
    CH.api("POST", "/api/ratings", body, null).then(function (res) {
      submitting = false;
      CH.$("#rateSubmit").disabled = false;
      if (res.ok) { rated = true; showThanks(scores.score <= 2 ? "rated_bad" : "rated"); return; }
      if (res.status === 409) { rated = true; showThanks("already_rated"); return; }
      CH.$("#rateMsg").textContent = CH.errorText(res);
    });
  }

  // The form gives way to a sentence (kept as a key, so it follows the language).
  function showThanks(key) {
    thanksKey = key;
    var box = CH.$("#rating");
    CH.$("#rateForm").hidden = true;
    var t = box.querySelector(".thanks");
    if (!t) { t = CH.el("div", { class: "thanks", role: "status" }); box.appendChild(t); }
    t.textContent = CH.t(key);
  }

  window.clearhallPhone = { state: function () { return { ticket: ticket, lastStatus: lastStatus, rated: rated }; } };
})();
