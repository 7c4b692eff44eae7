/* Rating pad (/rate/{n}#device=TOKEN), the tablet at window n (好差评, CONTRACT §7).
 *
 * - Idle: who is signed in at this window now (name, 党员示范岗), from the
 *   socket's snapshot, queue.changed and window.changed.
 * - rating.requested for this window: the five levels, big. A level of 3–5 is
 *   one touch and is sent at once, with no dimensions; the four indicators
 *   (GET /api/ratings/rules' `dimensions`) are small optional rows above the
 *   levels, sent only when the citizen touched them first.
 * - A 差评 (1–2) opens the reasons screen: the hall's `bad_reasons` as large
 *   toggles, an optional comment and call-back phone, 提交. The server wants a
 *   reason or a comment; the thanks screen says the case will be followed up,
 *   by its due date.
 * - The first rating wins: rating.closed for the ticket asked about (rated on
 *   the phone) drops the question; a finish undone at the window
 *   (window.changed with the ticket current again) drops it too.
 * - Voice (optional, the header's button, kept on this device): the prompts are
 *   spoken with a voice installed on the pad (speechSynthesis, localService);
 *   with none it stays quiet. The pad needs no key: its token rates. */
(function () {
  "use strict";
  var CH = window.CH;
  CH.page = "rate";

  var ASK_MS = 120000, THANKS_MS = 6000, THANKS_BAD_MS = 10000;
  var DIMS = ["efficiency", "professionalism", "attitude", "integrity"];  // the server's names, as the pad shows them
  var VOICE_KEY = "clearhall.rate.voice";
  var m = window.location.pathname.match(/\/rate\/(\d+)\/?$/);
  var n = m ? Number(m[1]) : null;
  var token = CH.deviceToken("rate");
  var request = null; // the rating.requested event being answered
  var dims = {};      // the indicators touched so far, for this request
  var bad = null;     // {score, reasons: {}} while the reasons screen is up
  var rules = null;   // GET /api/ratings/rules
  var win = null;     // this window as the queue shows it
  var timer = null;
  var sending = false;
  var voiceOn = readVoice();

  CH.applyStrings();
  CH.$("#langBtn").addEventListener("click", function () { CH.toggleLang(); });
  CH.$("#voiceBtn").addEventListener("click", function () { voiceOn = !voiceOn; saveVoice(); renderVoice(); });
  CH.$("#whyBack").addEventListener("click", function () { if (request) ask(request, true); });
  CH.$("#whySend").addEventListener("click", sendBad);
  ["input", "pointerdown", "keydown"].forEach(function (ev) {
    CH.$("#reasons").addEventListener(ev, function () { if (bad) wait(ASK_MS); }, true);  // someone is still at it
  });
  CH.onlang = function () { label(); renderIdle(); renderVoice(); if (bad) renderReasons(); else if (request) ask(request, true); };
  label();
  renderVoice();

  if (n === null) { CH.showBlockerKeys("bad_window", "bad_window_detail"); return; }
  if (!token) { CH.showBlockerKeys("no_token_title", "no_token_detail"); return; }

  loadRules();
  renderIdle();
  new CH.Live("token=" + encodeURIComponent(token), {
    onstatus: function (s) {
      CH.$("#offline").hidden = s !== "offline";
      if (s === "unauthorized") CH.showBlockerKeys("bad_token_title", "bad_token_detail");
      else CH.hideBlocker();
    },
    onstate: function (data) {
      win = (data.windows || []).filter(function (w) { return Number(w.number) === n; })[0] || null;
      renderIdle();
    },
    onevent: function (msg) {
      if (msg.event === "rating.requested" && Number(msg.window) === n && msg.ticket) { loadRules(); ask(msg); }
      if (msg.event === "rating.closed" && msg.ticket) closed(msg.ticket.id);
      var changed = CH.changedWindow(msg);
      if (!changed || Number(changed.number) !== n) return;
      win = changed;
      renderIdle();
      // A finish undone at the window: the ticket is being served again, not rated yet.
      if (request && changed.current && changed.current.number === request.ticket.number) idle();
    }
  });

  function loadRules() {
    return CH.api("GET", "/api/ratings/rules", null, null).then(function (res) {
      if (res.ok && res.data) rules = res.data;
      if (bad) renderReasons();
    });
  }

  function label() { CH.$("#padLabel").textContent = n === null ? "" : CH.t("window_label", { n: n }); }

  function view(which) {
    ["idle", "ask", "reasons", "thanks"].forEach(function (v) { CH.$("#" + v).hidden = v !== which; });
  }

  function wait(ms) { clearTimeout(timer); timer = setTimeout(idle, ms); }

  /* ---------- idle: who serves at this window ---------- */

  function renderIdle() {
    var staff = win && win.status !== "closed" ? win.staff : null;
    CH.$("#staffName").textContent = staff && staff.name ? staff.name : CH.t("no_staff");
    CH.$("#idleStaff").classList.toggle("empty", !staff);
    CH.$("#badge").hidden = !(staff && staff.party_member);
    var photo = CH.$("#photo");
    photo.hidden = !staff;
    photo.setAttribute("aria-label", staff && staff.name ? staff.name : "");
    if (staff && staff.photo_url) {
      photo.style.backgroundImage = "url(\"" + String(staff.photo_url).replace(/["\\]/g, "") + "\")";
      photo.textContent = "";
    } else {
      photo.style.backgroundImage = "";
      photo.textContent = staff && staff.name ? staff.name.slice(0, 1) : "";
    }
  }

  /* ---------- asking: optional indicators, then one touch ---------- */

  function ask(msg, again) {
    var fresh = !again || request !== msg;
    request = msg;
    bad = null;
    if (fresh) dims = {};
    CH.$("#askTicket").textContent = CH.t("ask_ticket", { number: msg.ticket.number, staff: msg.staff && msg.staff.name ? msg.staff.name : "" });
    CH.$("#askMsg").textContent = "";
    renderDims();
    var faces = CH.clear(CH.$("#faces"));
    [5, 4, 3, 2, 1].forEach(function (s) {
      faces.appendChild(CH.el("button", { type: "button", class: "face s" + s, "data-score": s, onclick: function () { level(s); } }, [
        CH.el("span", { class: "stars", "aria-hidden": "true", text: "★".repeat(s) }),
        CH.el("span", { class: "word", text: CH.t("rate_" + s) })
      ]));
    });
    view("ask");
    wait(ASK_MS);
    if (fresh) say(CH.t("ask_title"));
  }

  function dimNames() {
    var names = rules && Array.isArray(rules.dimensions) ? rules.dimensions : DIMS;
    return DIMS.filter(function (d) { return names.indexOf(d) >= 0; });
  }

  function renderDims() {
    var rows = CH.clear(CH.$("#dimRows"));
    var names = dimNames();
    CH.$("#dims").hidden = !names.length;
    names.forEach(function (d) {
      var row = CH.el("div", { class: "dim", "data-dim": d }, [CH.el("span", { class: "dim-name", text: CH.t("dim_" + d) })]);
      [5, 4, 3, 2, 1].forEach(function (s) {
        row.appendChild(CH.el("button", {
          type: "button", class: "dim-btn", "data-score": s, "aria-pressed": dims[d] === s ? "true" : "false",
          "aria-label": CH.t("dim_score", { dim: CH.t("dim_" + d), n: s }),
          onclick: function () { dims[d] = dims[d] === s ? undefined : s; renderDims(); wait(ASK_MS); }
        }, [String(s), CH.el("span", { class: "star1", "aria-hidden": "true", text: "★" })]));
      });
      rows.appendChild(row);
    });
  }

  function chosenDims() {
    var out = null;
    Object.keys(dims).forEach(function (d) { if (dims[d]) { out = out || {}; out[d] = dims[d]; } });
    return out;
  }

  function level(score) {
    if (!request || sending) return;
    if (score <= 2) { openReasons(score); return; }
    send({ ticket: request.ticket.id, score: score }, CH.$("#askMsg"), ".face, .dim-btn");
  }

  /* ---------- a 差评: why, and where to call back ---------- */

  function openReasons(score) {
    bad = { score: score, reasons: {} };
    CH.$("#comment").value = "";
    CH.$("#contact").value = "";
    CH.$("#whyMsg").textContent = "";
    renderReasons();
    view("reasons");
    wait(ASK_MS);
    say(CH.$("#whyTitle").textContent);
  }

  function renderReasons() {
    if (!bad) return;
    var known = rules && Array.isArray(rules.bad_reasons) ? rules.bad_reasons : [];
    CH.$("#whyTitle").textContent = CH.t("why_title", { level: CH.t("rate_" + bad.score) });
    CH.$("#whySub").textContent = CH.t(known.length ? "why_sub" : "why_sub_none");
    var grid = CH.clear(CH.$("#reasonGrid"));
    grid.hidden = !known.length;
    known.forEach(function (r) {
      grid.appendChild(CH.el("button", {
        type: "button", class: "reason", "data-reason": r, "aria-pressed": bad.reasons[r] ? "true" : "false",
        onclick: function () { bad.reasons[r] = !bad.reasons[r]; CH.$("#whyMsg").textContent = ""; renderReasons(); }
      }, [CH.el("span", { class: "tick", "aria-hidden": "true", text: bad.reasons[r] ? "✓" : "" }), r]));
    });
  }

  function sendBad() {
    if (!request || !bad || sending) return;
    var known = rules && Array.isArray(rules.bad_reasons) ? rules.bad_reasons : [];
    var reasons = known.filter(function (r) { return bad.reasons[r]; });
    var comment = CH.$("#comment").value.trim();
    var contact = CH.$("#contact").value.replace(/[\s\-()+.]/g, "");
    var msg = CH.$("#whyMsg");
    if (!reasons.length && !comment) { msg.textContent = CH.t("why_need"); return; }
    if (contact && !/^[0-9]{7,15}$/.test(contact)) { msg.textContent = CH.t("contact_bad"); CH.$("#contact").focus(); return; }
    var body = { ticket: request.ticket.id, score: bad.score, reasons: reasons };
    if (comment) body.comment = comment;
    if (contact) body.contact = contact;
    send(body, msg, ".reason, #whySend, #whyBack");
  }

  /* ---------- sending ---------- */

  function send(body, msgBox, buttons) {
    var mine = request;
    var d = chosenDims();
    if (d) body.dimensions = d;  // only what the citizen chose: an untouched indicator is not a score
    sending = true;
    var lock = function (on) { document.querySelectorAll(buttons).forEach(function (b) { b.disabled = on; }); };
    lock(true);
    msgBox.textContent = CH.t("sending");
    CH.api("POST", "/api/ratings", body, token).then(function (res) {
      sending = false;
      lock(false);
      if (request !== mine) return;
      if (res.ok) { thanked(body.score, body.contact, res.data && res.data.rating); return; }
      if (res.status === 409) { thanks(CH.t("already"), ""); return; }
      msgBox.textContent = CH.t("failed", { msg: CH.errorText(res) });
    });
  }

  function thanked(score, contact, rating) {
    if (score > 2) { thanks(CH.t("thanks"), ""); return; }
    var due = rating && rating.case && rating.case.due_at ? dueDate(rating.case.due_at) : null;
    var sub = !due ? CH.t("thanks_bad_soon") : CH.t(contact ? "thanks_bad_sub" : "thanks_bad_sub_nocall", { date: due });
    thanks(CH.t("thanks_bad"), sub, THANKS_BAD_MS);
  }

  /* "12月7日（星期一）" / "Monday 7 Dec": the hall's date as the server wrote it (ISO with the hall's offset) */
  function dueDate(iso) {
    var p = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(iso));
    if (!p) return null;
    var d = new Date(Date.UTC(+p[1], +p[2] - 1, +p[3]));
    var locale = CH.lang === "en" ? "en-GB" : "zh-CN";
    return CH.t("due_date", { m: +p[2], d: +p[3], mon: d.toLocaleDateString("en-GB", { timeZone: "UTC", month: "short" }),
      wd: d.toLocaleDateString(locale, { timeZone: "UTC", weekday: "long" }) });
  }

  // Rated elsewhere (the phone). While the pad's own rating is on its way its
  // answer says what happened (thanks, or 409 already rated), so wait for that.
  function closed(ticketId) {
    if (!request || sending || request.ticket.id !== ticketId) return;
    thanks(CH.t("closed"), "");
  }

  function thanks(text, sub, ms) {
    request = null;
    bad = null;
    CH.$("#thanksText").textContent = text;
    CH.$("#thanksSub").textContent = sub || "";
    view("thanks");
    wait(ms || THANKS_MS);
    say(text + (sub ? " " + sub : ""));
  }

  function idle() { request = null; bad = null; dims = {}; clearTimeout(timer); view("idle"); }

  /* ---------- voice: a local voice only, else quiet ---------- */

  function readVoice() { try { return window.localStorage.getItem(VOICE_KEY) !== "off"; } catch (e) { return true; } }
  function saveVoice() { try { window.localStorage.setItem(VOICE_KEY, voiceOn ? "on" : "off"); } catch (e) { /* this visit only */ } }
  function renderVoice() {
    var b = CH.$("#voiceBtn");
    b.textContent = CH.t(voiceOn ? "voice_on" : "voice_off");
    b.setAttribute("aria-pressed", voiceOn ? "true" : "false");
    if (!voiceOn && window.speechSynthesis) { try { window.speechSynthesis.cancel(); } catch (e) { /* quiet */ } }
  }

  function say(text) { if (voiceOn) CH.say(text); }

  // for a technician checking the pad (and the screenshots): show a request by hand
  window.clearhallRatePad = { ask: ask, idle: idle };
})();
