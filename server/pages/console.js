/* Staff console (/console): log in, sign in at a window, and work it.
 * Every window call of CONTRACT §5 has a big button and a key:
 *   N call next · R recall · S start · F finish · J finish and call next ·
 *   X no-show · T transfer · G suspend (挂起) · C call a number out of order ·
 *   P pause / resume · U undo · H 延时服务 (extended hours) · L language
 * F, J and X need a second press; calls that need a reason ask for it first.
 * Each call carries an Idempotency-Key so a retried click never acts twice.
 *
 * This file is the console's core: the session, the window chosen, the live
 * feed, the current ticket and the calls themselves (post). The guards
 * (console-guard.js), dialogs (console-dialogs.js), the waiting and suspended
 * lists (console-queue.js), 延时服务 (console-hours.js) and the buttons and keys
 * (console-actions.js) are loaded before it and share CH.console with it; this file, loaded last,
 * starts the page. */
(function () {
  "use strict";
  var CH = window.CH;
  var S = CH.console = CH.console || {};
  CH.page = "console";

  var store = window.sessionStorage;
  var session = load();          // {token, staff, window}
  var current = null;            // the window's current ticket: {number, status, service, category, ...}
  var ownAnswerAt = 0;           // when this console's own call last answered
  var QUEUE_LAG_MS = 1500;
  var known = null;              // see remember()
  var windowStatus = "open";
  var services = [];
  var windowServices = [];       // the codes of the services this window handles (from the queue)
  var servedNow = {};            // service code → a staffed, unpaused window handles it now (from the queue)
  var live = null;

  S.session = function () { return session; };
  S.current = function () { return current; };
  S.windowStatus = function () { return windowStatus; };
  S.services = function () { return services; };
  S.windowServices = function () { return windowServices; };
  S.post = post;
  S.flash = flash;
  S.clearFlash = clearFlash;
  S.expired = expired;
  S.busy = function () { return busy; };
  S.servedNow = function (code) { return servedNow[code]; };
  S.takeCurrent = takeCurrent;
  S.takeQueue = takeQueue;

  CH.applyStrings();
  S.buildButtons();
  CH.onlang = function () { S.buildButtons(); renderAll(); };
  document.querySelectorAll("[data-action='lang']").forEach(function (b) { b.addEventListener("click", CH.toggleLang); });
  CH.$("#loginForm").addEventListener("submit", onLogin);
  CH.$("#logoutBtn").addEventListener("click", logout);
  CH.$("#logoutBtn2").addEventListener("click", logout);
  CH.$("#signOutBtn").addEventListener("click", signOut);
  route();

  /* ---------- session ---------- */

  function load() {
    try { return JSON.parse(store.getItem("clearhall.console") || "null"); } catch (e) { return null; }
  }
  function save() {
    try {
      if (session) store.setItem("clearhall.console", JSON.stringify(session));
      else store.removeItem("clearhall.console");
    } catch (e) { /* private mode */ }
  }

  function route() {
    CH.$("#loginView").hidden = !!session;
    CH.$("#windowView").hidden = !session || !!session.window;
    CH.$("#workView").hidden = !session || !session.window;
    if (!session) { setTimeout(function () { CH.$("#username").focus(); }, 0); return; }
    if (!session.window) { showWindowChoice(); return; }
    startWork();
  }

  function onLogin(e) {
    e.preventDefault();
    var msg = CH.$("#loginMsg");
    msg.textContent = "";
    CH.api("POST", "/api/login", { username: CH.$("#username").value.trim(), password: CH.$("#password").value }).then(function (res) {
      if (!res.ok) { msg.textContent = CH.t("login_failed", { msg: res.status === 401 ? (res.error.message || CH.t("err_unauthorized")) : CH.errorText(res) }); return; }
      CH.$("#password").value = "";
      session = { token: res.data.token, staff: res.data.staff || {}, window: null };
      save();
      // already signed in at a window (a reload, another tab): go straight back to it
      CH.api("GET", "/api/me", null, session.token).then(function (me) {
        if (me.ok && me.data && typeof me.data.window === "number") { session.window = me.data.window; save(); }
        route();
      });
    });
  }

  function logout() {
    var tok = session && session.token;
    if (live) { live.close(); live = null; }
    session = null; current = null; save();
    S.dropUndo();
    if (tok) CH.api("POST", "/api/logout", {}, tok);
    route();
  }

  function expired() {
    if (live) { live.close(); live = null; }
    session = null; save();
    route();
    CH.$("#loginMsg").textContent = CH.t("session_expired");
  }

  function showWindowChoice() {
    var box = CH.clear(CH.$("#windowChoices"));
    var wins = (session.staff && session.staff.windows) || [];
    wins.forEach(function (n) {
      box.appendChild(CH.el("button", { type: "button", class: "btn", "data-window": n, text: CH.t("signed_in_at", { n: n }), onclick: function () { signIn(n); } }));
    });
    var input = CH.el("input", { type: "number", min: "1", id: "windowInput", "aria-label": CH.t("window_label"), placeholder: CH.t("window_label") });
    box.appendChild(input);
    box.appendChild(CH.el("button", { type: "button", class: "btn primary", text: CH.t("sign_in"), onclick: function () {
      if (input.value) signIn(Number(input.value));
    } }));
  }

  function signIn(n) {
    var msg = CH.$("#windowMsg");
    msg.textContent = "";
    CH.api("POST", "/api/windows/" + n + "/sign-in", {}, session.token).then(function (res) {
      if (res.status === 401) { expired(); return; }
      if (!res.ok) { msg.textContent = CH.errorText(res); return; }
      session.window = n; save();
      current = null;
      route();
    });
  }

  function signOut() {
    var n = session.window;
    CH.api("POST", "/api/windows/" + n + "/sign-out", {}, session.token).then(function (res) {
      if (res.status === 401) { expired(); return; }
      if (!res.ok) { flash(CH.errorText(res), true); return; }
      if (live) { live.close(); live = null; }
      session.window = null; save(); current = null;
      S.dropUndo();
      route();
    });
  }

  /* ---------- working at the window ---------- */

  function startWork() {
    CH.$("#winLabel").textContent = CH.t("signed_in_at", { n: session.window });
    CH.$("#staffName").textContent = session.staff.name || session.staff.username || "";
    CH.$("#partyBadge").hidden = !session.staff.party_member;
    renderAll();
    S.refreshWaiting();
    refreshStats();
    S.loadHours();
    // the services (names, time limits, who serves them) and the hall's clock, for the call timer
    CH.readHall(session.token).then(function (res) {
      if (!res.ok || !res.data || !res.data.services) return;
      services = res.data.services;
      services.forEach(function (s) { if (!(s.code in servedNow)) servedNow[s.code] = s.served_now; });
      renderAll();
    });
    if (live) live.close();
    live = new CH.Live("token=" + encodeURIComponent(session.token), {
      poll: function () {
        S.refreshWaiting();
        refreshStats();
        return CH.api("GET", "/api/queue", null, session && session.token).then(function (res) {
          if (res.ok) takeQueue(res.data);
          return res.ok;
        });
      },
      onstatus: function (s) {
        CH.$("#offline").hidden = s !== "offline";
        if (s === "unauthorized") expired();
        if (s === "online") S.loadHours();
      },
      // the window's state comes with the snapshot and every queue.changed; the
      // waiting list and today's counts are this window's own, read after each
      onstate: function (state) { takeQueue(state); refreshLater(); },
      onevent: function (msg) {
        if (msg.event === "hours.changed") { S.takeHours(msg.extended); return; }
        if (!session || msg.window !== session.window) return;
        // (the answer to this console's own call may have come first, with more)
        if (msg.event === "ticket.called" && !msg.recall && msg.ticket && !(current && current.number === msg.ticket.number)) {
          current = asKnown(Object.assign({ status: "called", called_at: msg.at }, msg.ticket));
          renderCurrent();
        }
        var changed = CH.changedWindow(msg);
        if (changed) { takeWindow(changed); renderAll(); }
      }
    });
  }

  var refreshLater = CH.debounce(function () {
    S.refreshWaiting();
    refreshStats();
  }, 300);

  function takeQueue(data) {
    if (!session || !data || !Array.isArray(data.windows)) return;
    (data.services || []).forEach(function (s) { if (typeof s.served_now === "boolean") servedNow[s.code] = s.served_now; });
    data.windows.forEach(function (w) { if (w.number === session.window) takeWindow(w, true); });
    renderAll();
  }

  /* This window as /api/queue shows it. Its current ticket there is a number
   * only: what this console already knows of that ticket is kept. The whole
   * queue (`fromQueue`) is re-read by the server a quarter second after a burst
   * of events, so one read just before this console's own call may arrive just
   * after its answer: "nobody at the window" after a call, or the finished
   * ticket still there after a finish (which hid 撤销), is older than the
   * answer. For QUEUE_LAG_MS after its own answer the console keeps what the
   * answer said; the window's own events are always taken. */
  function takeWindow(w, fromQueue) {
    if (fromQueue && Date.now() - ownAnswerAt <= QUEUE_LAG_MS) return;
    windowStatus = w.status || "open";
    if (Array.isArray(w.services)) windowServices = w.services;
    if (w.current) {
      if (!current || current.number !== w.current.number) current = asKnown(w.current);
      else if (w.current.status) current.status = w.current.status;
    } else current = null;
  }

  /* The fullest copy of a ticket this console got from its own calls (with the
   * masked ID and phone), so a later, leaner mention of it loses nothing. */
  function remember(t) { if (t && t.number) known = t; return t; }
  function asKnown(t) {
    return known && known.number === t.number ? Object.assign({}, known, t) : Object.assign({}, t);
  }

  /* The window's current ticket as GET /api/windows/{n}/waiting read it (with its
   * call time, which the socket does not carry), and the seconds before 过号.
   * Only fills in the ticket the console already shows: the socket says which. */
  function takeCurrent(t, noShowIn) {
    if (!t || !current || current.number !== t.number) return;
    // (without the masks when the server gives them only to the caller: the console keeps its own)
    current = Object.assign({}, current, t);
    if ("id_masked" in t) remember(current);
    S.noShowWait(t.number, noShowIn);
    renderCurrent();
  }

  function refreshStats() {
    if (!session) return;
    CH.api("GET", "/api/me/stats", null, session.token).then(function (res) {
      if (!res.ok || !res.data) return;
      var d = res.data.stats || res.data;
      CH.$("#statCalled").textContent = d.called || 0;
      CH.$("#statFinished").textContent = d.finished || 0;
      CH.$("#statNoShow").textContent = d.no_show || 0;
    });
  }

  function renderAll() { renderCurrent(); S.renderButtons(); S.renderGuards(); S.renderHours(); }

  function renderCurrent() {
    var num = CH.$("#curNumber"), meta = CH.clear(CH.$("#curMeta"));
    CH.$("#pausedBanner").hidden = windowStatus !== "paused";
    if (!current) {
      num.textContent = CH.t("no_current");
      num.classList.add("none");
      S.renderButtons();
      S.renderGuards();
      return;
    }
    num.classList.remove("none");
    num.textContent = current.number;
    var svc = services.filter(function (s) { return s.code === current.service; })[0];
    var line1 = CH.el("div");
    if (current.status) line1.appendChild(CH.el("span", { class: "tag status", text: CH.t("tstatus_" + current.status) }));
    if (current.category) line1.appendChild(CH.el("span", { class: "tag" + S.categoryClass(current.category), text: CH.categoryName(current.category) }));
    if (current.proxy) line1.appendChild(CH.el("span", { class: "tag proxy", text: CH.t("proxy_tag") }));
    meta.appendChild(line1);
    if (current.service) meta.appendChild(CH.el("div", { text: current.service + (svc ? " · " + svc.name : "") }));
    if (current.id_masked) meta.appendChild(CH.el("div", { text: CH.t("masked_id", { id: current.id_masked }) }));
    if (current.phone_masked) meta.appendChild(CH.el("div", { text: CH.t("masked_phone", { phone: current.phone_masked }) }));
    if (current.proxy_masked) meta.appendChild(CH.el("div", { text: CH.t("masked_proxy", { id: current.proxy_masked }) }));
    S.renderButtons();
    S.renderGuards();
  }

  var busy = false;
  /* Make window call `action`; resolves to the CH.api result (null when another is on its way). */
  function post(action, body) {
    if (busy) { flash(CH.t("busy"), "warn"); return Promise.resolve(null); }
    busy = true;
    var sent = Date.now();
    var was = current;
    return CH.api("POST", "/api/windows/" + session.window + "/" + action, body, session.token,
      { "Idempotency-Key": CH.idempotencyKey() }).then(function (res) {
      busy = false;
      if (res.status === 401) { expired(); return res; }
      S.disarm();
      if (!res.ok) refused(action, res, was);
      else { ownAnswerAt = Date.now(); took(action, res.data || {}, sent); }
      renderAll();
      refreshLater();
      return res;
    });
  }

  function took(action, data, sent) {
    var t = data.ticket, label = S.actionLabel(action);
    // a call at the window ends what 撤销 could put back (pausing or 回队 do not)
    if (["pause", "resume", "requeue"].indexOf(action) < 0) S.dropUndo();
    if (action === "call-next" || action === "call") {
      if (t) { current = remember(t); flash(CH.t("done_msg", { what: CH.t(label) + " " + t.number })); }
      else { current = null; flash(CH.t("nobody"), "warn"); }
    } else if (action === "finish-and-call-next") {
      var f = data.finished ? data.finished.number : "";
      current = t ? remember(t) : null;
      flash(t ? CH.t("finished_called", { f: f, n: t.number }) : CH.t("finished_nobody", { f: f }), t ? "ok" : "warn");
      if (!t && f) S.offerUndo(f, "finish", sent);  // nobody called: it was a finish, and undo is offered
    } else if (action === "start") {
      current = remember(t || Object.assign({}, current, { status: "serving" }));
      flash(CH.t("done_msg", { what: CH.t(label) }));
    } else if (action === "finish" || action === "no-show") {
      current = null;
      flash(CH.t(action === "finish" ? "finished_one" : "no_show_done", { n: t ? t.number : "" }));
      if (t) S.offerUndo(t.number, action, sent);
    } else if (action === "transfer") {
      current = null;
      var words = { n: t ? t.number : "", s: t ? t.service : "" };
      if (data.unstaffed) flash(CH.t("transferred_unstaffed", words), "warn");
      else flash(CH.t("transferred", words));
    } else if (action === "suspend") {
      current = null;
      flash(CH.t("suspended_done", { n: t ? t.number : "" }));
    } else if (action === "undo") {
      current = t ? remember(t) : current;
      if (t) flash(CH.t("undone", { n: t.number, status: CH.t("tstatus_" + t.status) }));
    } else if (action === "requeue") {
      flash(CH.t("requeued", { n: t ? t.number : "" }));
    } else if (action === "pause") { windowStatus = "paused"; flash(CH.t("done_msg", { what: CH.t(label) })); }
    else if (action === "resume") { windowStatus = "open"; flash(CH.t("done_msg", { what: CH.t(label) })); }
    else flash(CH.t("done_msg", { what: CH.t(label) }));
  }

  function refused(action, res, was) {
    var left = res.error && res.error.seconds_left;
    if (action === "no-show" && typeof left === "number" && was) {
      // too soon after the call: the server says how long; a recall may bring the citizen
      S.noShowWait(was.number, left);
      flash(CH.t("no_show_wait", { s: left }), "warn");
      return;
    }
    if (action === "undo") S.dropUndo();
    flash(CH.errorText(res), true);
  }

  /* A line under the buttons: kind "ok" (done), "warn" (a key that could not act, and why),
   * "arm" (press again to confirm), or true / "error" (the server refused). */
  var flashKind = null;
  function flash(text, kind) {
    var m = CH.$("#actionMsg");
    flashKind = kind === true ? "error" : kind || "ok";
    m.textContent = text;
    m.className = "msg " + flashKind;
  }
  function clearFlash(kind) {
    if (flashKind !== kind) return;
    var m = CH.$("#actionMsg");
    m.textContent = "";
    m.className = "msg";
    flashKind = null;
  }
})();
