/* Rating pad (/rate/{n}#device=TOKEN): waits for rating.requested for its window,
 * shows five big buttons, posts the rating (the pad needs no key), thanks the
 * citizen and goes back to waiting. The first rating wins: when the citizen
 * rates on the phone first (rating.closed for the ticket asked about), the pad
 * drops its question and says so. */
(function () {
  "use strict";
  var CH = window.CH;
  CH.page = "rate";

  var ASK_MS = 120000, THANKS_MS = 6000;
  var m = window.location.pathname.match(/\/rate\/(\d+)\/?$/);
  var n = m ? Number(m[1]) : null;
  var token = CH.deviceToken("rate");
  var request = null; // the rating.requested event being answered
  var timer = null;
  var sending = false;

  CH.applyStrings();
  CH.$("#langBtn").addEventListener("click", function () { CH.toggleLang(); });
  CH.onlang = function () { label(); if (request) ask(request); };
  label();

  if (n === null) { CH.showBlockerKeys("bad_window", "bad_window_detail"); return; }
  if (!token) { CH.showBlockerKeys("no_token_title", "no_token_detail"); return; }

  new CH.Live("token=" + encodeURIComponent(token), {
    onstatus: function (s) {
      CH.$("#offline").hidden = s !== "offline";
      if (s === "unauthorized") CH.showBlockerKeys("bad_token_title", "bad_token_detail");
      else CH.hideBlocker();
    },
    onevent: function (msg) {
      if (msg.event === "rating.requested" && Number(msg.window) === n && msg.ticket) ask(msg);
      if (msg.event === "rating.closed" && msg.ticket) closed(msg.ticket.id);
      // A finish undone at the window: the ticket is being served again, not rated yet.
      if (msg.event === "window.changed" && Number(msg.window) === n && request && msg.state &&
          msg.state.current && msg.state.current.number === request.ticket.number) idle();
    }
  });

  function label() { CH.$("#padLabel").textContent = n === null ? "" : CH.t("window_label", { n: n }); }

  function view(which) {
    ["idle", "ask", "thanks"].forEach(function (v) { CH.$("#" + v).hidden = v !== which; });
  }

  function ask(msg) {
    request = msg;
    CH.$("#askTicket").textContent = CH.t("ask_ticket", { number: msg.ticket.number, staff: msg.staff && msg.staff.name ? msg.staff.name : "" });
    CH.$("#askMsg").textContent = "";
    var faces = CH.clear(CH.$("#faces"));
    [5, 4, 3, 2, 1].forEach(function (s) {
      faces.appendChild(CH.el("button", { type: "button", class: "face s" + s, "data-score": s, onclick: function () { send(s); } }, [
        CH.el("span", { class: "stars", "aria-hidden": "true", text: "★".repeat(s) }),
        CH.el("span", { class: "word", text: CH.t("rate_" + s) })
      ]));
    });
    view("ask");
    clearTimeout(timer);
    timer = setTimeout(idle, ASK_MS);
  }

  function send(score) {
    if (!request || sending) return;
    sending = true;
    var mine = request;
    document.querySelectorAll(".face").forEach(function (b) { b.disabled = true; });
    CH.$("#askMsg").textContent = CH.t("sending");
    // the pad asks for one overall score; it stands for each dimension as well
    var body = { ticket: mine.ticket.id, score: score,
      dimensions: { attitude: score, efficiency: score, professionalism: score, integrity: score } };
    CH.api("POST", "/api/ratings", body, token).then(function (res) {
      sending = false;
      if (request !== mine) return;
      if (res.ok) { thanks(score <= 2 ? CH.t("thanks_bad") : CH.t("thanks")); return; }
      if (res.status === 409) { thanks(CH.t("already")); return; }
      CH.$("#askMsg").textContent = CH.t("failed", { msg: CH.errorText(res) });
      document.querySelectorAll(".face").forEach(function (b) { b.disabled = false; });
    });
  }

  // Rated elsewhere (the phone). While the pad's own rating is on its way its
  // answer says what happened (thanks, or 409 already rated), so wait for that.
  function closed(ticketId) {
    if (!request || sending || request.ticket.id !== ticketId) return;
    thanks(CH.t("closed"));
  }

  function thanks(text) {
    request = null;
    CH.$("#thanksText").textContent = text;
    view("thanks");
    clearTimeout(timer);
    timer = setTimeout(idle, THANKS_MS);
  }

  function idle() { request = null; clearTimeout(timer); view("idle"); }

  // for a technician checking the pad (and the screenshots): show a request by hand
  window.clearhallRatePad = { ask: ask, idle: idle };
})();
