/* Kiosk (/kiosk#device=TOKEN): service → category (green channel explained, the
 * documents to bring) → ID number or phone on an on-screen keypad where the
 * service needs a real name → the ticket on screen with its QR code and the
 * printer's status. Any screen goes back to the start after 30 s without a touch
 * (60 s in 长者模式); a closed hall shows its hours (and its 延时服务) instead.
 *
 * This file is the kiosk's core: the hall's services and policy, the screens,
 * services and categories, issuing, idle. The parts are loaded before it and
 * share CH.kiosk (K) with it: kiosk-keypad.js (the keypad for ID and phone
 * numbers), kiosk-ticket.js (the ticket screen and its print), kiosk-rejoin.js
 * (回队, the receipt QR scanner, a refused duplicate and its 补打),
 * kiosk-elderly.js (the ID card path, 长者模式 and its voice, 呼叫导办),
 * kiosk-complaint.js (投诉建议), kiosk-checkin.js (预约签到, the booking QR
 * scanner), kiosk-hours.js (the closed screen, 延时服务) and kiosk-proxy.js
 * (帮代办). Each part may have init, onScreen(id), rerender(screen), reset(),
 * onevent(msg) (the live socket's events) and online() (the socket is up,
 * again); this file, loaded last, calls them in that order of parts and starts
 * the page. */
(function () {
  "use strict";
  var CH = window.CH;
  var K = CH.kiosk = CH.kiosk || {};
  CH.page = "kiosk";

  var IDLE_MS = 30000, IDLE_ELDER_MS = 60000;
  var PARTS = ["keypad", "ticket", "rejoin", "elderly", "complaint", "checkin", "hours", "proxy"];
  var token = K.token = CH.deviceToken("kiosk");
  var st = K.st = {
    services: [], hall: null, policy: null,   // from /api/services and /api/policy
    windows: [],                              // the queue's windows (live), for a complaint's window
    waiting: {}, served: {},                  // service code → people waiting, served now (live queue)
    choice: {},                               // {service, category, proxy}
    walkIn: false,                            // 取普通号 after a refused check-in: no booking claimed this visit
    entry: { mode: "id", value: "", purpose: "issue" },
    ticket: null,                             // the last issued ticket (with key and url)
    person: null,                             // {name, id_number} from the ID card, for this citizen only
    current: "scrLoading"
  };
  var idleTimer = null, countdownTimer = null;
  var routes = K.routes = K.routes || {};

  CH.applyStrings();
  tickClock();
  setInterval(tickClock, 1000);
  CH.$("#langBtn").addEventListener("click", function () { CH.toggleLang(); });
  CH.onlang = function () { fitName(); rerender(); };
  window.addEventListener("resize", CH.debounce(fitName, 200));

  if (!token) { CH.showBlockerKeys("no_token_title", "no_token_detail"); return; }

  document.querySelectorAll("[data-go]").forEach(function (b) {
    b.addEventListener("click", function () { go(b.getAttribute("data-go")); });
  });
  ["pointerdown", "keydown", "touchstart"].forEach(function (ev) {
    document.addEventListener(ev, armIdle, { passive: true });
  });
  parts("init");

  loadServices();
  setInterval(loadServices, 60000);

  // The waiting counts and served_now on the tiles come with the socket's
  // snapshot and every queue.changed; /api/queue is read only while the socket is down.
  new CH.Live("token=" + encodeURIComponent(token), {
    poll: function () {
      return CH.api("GET", "/api/queue", null, token).then(function (res) { if (res.ok) takeQueue(res.data); return res.ok; });
    },
    pollMs: 15000,
    onstatus: function (s) {
      CH.$("#offline").hidden = s !== "offline";
      if (s === "unauthorized") CH.showBlockerKeys("bad_token_title", "bad_token_detail");
      else CH.hideBlocker();
      if (s === "online") parts("online");  // (again): what changed while it was down is read afresh
    },
    onstate: takeQueue,
    onevent: function (msg) { parts("onevent", msg); }
  });

  /* ---------- data ---------- */

  function loadServices() {
    CH.api("GET", "/api/policy", null, token).then(function (res) {
      if (res.ok && res.data && res.data.policy) { st.policy = res.data.policy; if (st.current === "scrServices") renderServices(); }
    });
    return CH.readHall(token).then(function (res) {  // also sets the hall's clock
      if (res.status === 401 || res.status === 403) { CH.showBlockerKeys("bad_token_title", "bad_token_detail"); return; }
      if (!res.ok || !res.data) return;
      st.services = res.data.services || [];
      st.hall = res.data.hall || null;
      if (K.hours) K.hours.take(st.hall && st.hall.extended);
      if (st.hall && st.hall.name) { CH.$("#hallName").textContent = st.hall.name; CH.$("#hallName").removeAttribute("data-t"); }
      tickClock();
      fitName();
      if (st.current === "scrLoading" || st.current === "scrClosed" || st.current === "scrServices") go("services");
    });
  }

  function takeQueue(data) {
    if (!data || !Array.isArray(data.services)) return;
    if (Array.isArray(data.windows)) st.windows = data.windows;
    data.services.forEach(function (s) {
      st.waiting[s.code] = s.waiting;
      if (typeof s.served_now === "boolean") st.served[s.code] = s.served_now;
    });
    if (st.current === "scrServices") renderServices();
  }

  K.service = function (code) { return st.services.filter(function (s) { return s.code === code; })[0] || null; };
  /* false when no open window serves the service now (the queue's word first: it is live) */
  K.servedNow = function (s) { return st.served[s.code] !== undefined ? st.served[s.code] : s.served_now !== false; };
  K.refusesUnstaffed = function () { return !!st.policy && st.policy.unstaffed_services === "refuse"; };

  /* ---------- screens ---------- */

  function show(id) {
    document.querySelectorAll(".kmain > .screen").forEach(function (s) { s.hidden = s.id !== id; });
    st.current = id;
    armIdle();
    parts("onScreen", id);
  }
  K.show = show;

  function parts(method, arg) {
    PARTS.forEach(function (p) { if (K[p] && K[p][method]) K[p][method](arg); });
  }

  function go(where) {
    clearInterval(countdownTimer);
    if (where === "home") { reset(); where = "services"; }
    if (routes[where]) { routes[where](); return; }
    if (where === "services") {
      st.choice = {}; st.entry = { mode: "id", value: "", purpose: "issue" };
      CH.clear(CH.$("#entry"));  // no number typed by the last citizen stays in the page
      if (K.hours && !K.hours.open()) { K.hours.showClosed(); return; }
      renderServices(); show("scrServices");
    } else if (where === "category") {
      renderCategories(); show("scrCategory");
    } else if (where === "realname") {
      K.keypad.render(); show("scrRealName");
    }
  }
  K.go = go;

  /* The next citizen starts afresh: nothing of this one's ID, no 长者模式. */
  function reset() {
    st.person = null;
    st.ticket = null;
    st.walkIn = false;
    parts("reset");
  }
  K.reset = reset;

  function rerender() {
    var c = st.current;
    if (c === "scrServices") renderServices();
    if (c === "scrCategory") renderCategories();
    if (c === "scrRealName") K.keypad.render();
    parts("rerender", c);
  }

  function renderServices() {
    if (K.elderly && K.elderly.renderPerson) K.elderly.renderPerson();
    var box = CH.clear(CH.$("#serviceTiles"));
    if (!st.services.length) { box.appendChild(CH.el("p", { class: "big-note", text: CH.t("no_services") })); return; }
    st.services.forEach(function (s) { box.appendChild(serviceTile(s)); });
  }

  /* A service's tile: its letter, name, who waits (or `note`), 需实名, not served now. */
  function serviceTile(s, note) {
    var open = s.open !== false, served = K.servedNow(s);
    var takeable = open && (served || !K.refusesUnstaffed());
    var n = st.waiting[s.code] !== undefined ? st.waiting[s.code] : s.waiting;
    var meta = !open ? CH.t("service_closed") : (n !== undefined && n !== null ? CH.t("waiting_n", { n: n }) : "");
    return CH.el("button", {
      type: "button", class: "tile" + (served ? "" : " unstaffed"), "data-service": s.code, "data-served": served ? "yes" : "no",
      disabled: takeable ? null : "disabled",
      onclick: function () { st.choice = { service: s }; go("category"); }
    }, [
      CH.el("div", { class: "top" }, [CH.el("span", { class: "code", text: s.code }),
        s.real_name_required ? CH.el("span", { class: "meta" }, [CH.el("span", { class: "tag", text: CH.t("real_name_tag") })]) : null]),
      CH.el("div", { class: "name", text: s.name }),
      note ? CH.el("div", { class: "meta until", text: note }) : null,
      CH.el("div", { class: "meta" }, [meta]),
      open && !served ? CH.el("div", { class: "nowin", text: CH.t("unstaffed") }) : null
    ]);
  }
  K.serviceTile = serviceTile;

  function renderCategories() {
    var s = st.choice.service;
    CH.$("#catService").textContent = s ? s.code + " " + s.name : "";
    CH.$("#catMsg").textContent = "";
    CH.$("#catUnstaffed").hidden = !s || K.servedNow(s);
    var normal = CH.clear(CH.$("#normalCats"));
    [["normal", "cat_normal_desc"], ["enterprise", "cat_enterprise_desc"]].forEach(function (c) {
      normal.appendChild(CH.el("button", { type: "button", class: "tile", "data-category": c[0], onclick: function () { pick(c[0]); } }, [
        CH.el("div", { class: "name", text: CH.categoryName(c[0]) }),
        CH.el("div", { class: "desc", text: CH.t(c[1]) })
      ]));
    });
    var green = CH.clear(CH.$("#greenCats"));
    CH.GREEN.forEach(function (c) {
      green.appendChild(CH.el("button", { type: "button", class: "tile", "data-category": c, onclick: function () { pick(c); } }, [
        CH.el("div", { class: "name", text: CH.categoryName(c) }),
        CH.el("div", { class: "desc", text: CH.t("green_desc_" + c) })
      ]));
    });
    if (K.elderly && K.elderly.suggestGreen) K.elderly.suggestGreen();
    renderGuide(CH.$("#catGuide"), s);
  }

  /* 一次性告知: the documents to bring and where the service is handled, when the hall says. */
  function renderGuide(box, s) {
    CH.clear(box);
    var materials = s && Array.isArray(s.materials) ? s.materials.filter(function (m) { return m; }) : [];
    var where = s && s.where;
    box.hidden = !materials.length && !where;
    if (materials.length) {
      box.appendChild(CH.el("h2", { text: CH.t("materials_title") }));
      box.appendChild(CH.el("ul", {}, materials.map(function (m) { return CH.el("li", { text: m }); })));
    }
    if (where) box.appendChild(CH.el("p", { class: "where" }, [CH.el("b", { text: CH.t("where_label") }), String(where)]));
  }
  K.renderGuide = renderGuide;

  function pick(category) {
    st.choice.category = category;
    if (st.choice.proxy && K.proxy) K.proxy.open();  // 帮代办: the applicant's and the proxy's ID numbers next
    else if (st.person) issue({ id_number: st.person.id_number });  // the ID card is the real name
    else if (st.choice.service.real_name_required) { st.entry = { mode: "id", value: "", purpose: "issue" }; go("realname"); }
    else issue();
  }
  K.pick = pick;

  /* ---------- issuing ---------- */

  /* A ticket of the chosen service and category, with what proves who takes it. */
  function issue(proof) {
    var body = { service: st.choice.service.code, category: st.choice.category || "normal" };
    ["id_number", "phone", "proxy_id_number"].forEach(function (k) { if (proof && proof[k]) body[k] = proof[k]; });
    if (st.walkIn) body.walk_in = true;  // 取普通号: this citizen's booking is not checked in now
    order(body, st.current);
  }
  K.issue = issue;

  /* POST /api/tickets with `body` (a service's ticket, or a booking's check-in). A refusal
   * is said on the screen `back` (K.refusedOn[back]); a held ticket, a closed hall and a
   * booking outside its check-in window have screens of their own. */
  var issuing = false;
  var refusedOn = K.refusedOn = K.refusedOn || {};
  refusedOn.scrRealName = function (text) { K.keypad.render(); show("scrRealName"); CH.$("#rnMsg").textContent = text; };
  refusedOn.scrCategory = function (text) { renderCategories(); show("scrCategory"); CH.$("#catMsg").textContent = text; };

  function order(body, back) {
    if (issuing) return;
    issuing = true;
    show("scrIssuing");
    // One key for this ticket: if the answer is lost on the network, the retry
    // gets the same ticket back from the server, never a second one.
    var attempt = "issue-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
    send(1);

    function send(tries) {
      CH.api("POST", "/api/tickets", body, token, { "Idempotency-Key": attempt }).then(function (res) {
        // no answer, or a proxy's word that the server went away mid-request (502, 504; nginx
        // never repeats a POST itself) or is busy (503): the same key again (docs/nginx.md)
        var lost = res.status === 0 || res.status === 502 || res.status === 503 || res.status === 504;
        if (lost && tries < 3) { setTimeout(function () { send(tries + 1); }, 1000); return; }
        issuing = false;
        if (res.ok && res.data && res.data.ticket) { st.entry.value = ""; K.ticket.show(res.data.ticket); return; }
        if (res.status === 401) { CH.showBlockerKeys("bad_token_title", "bad_token_detail"); return; }
        var err = res.error || {};
        // the same ID already holds a ticket of this service: say which, and offer its 补打
        if (err.ticket && K.rejoin && K.rejoin.duplicate) { K.rejoin.duplicate(err.ticket, body); return; }
        if (err.code === "closed" && K.hours) { K.hours.refused(err); return; }
        if (err.appointment && K.checkin) { K.checkin.refused(res, body); return; }  // too early or too late
        var text = err.code === "limit_exceeded" ?
          CH.t("limit_exceeded", { msg: CH.errorText(res) }) : CH.t("issue_failed", { msg: CH.errorText(res) });
        (refusedOn[back] || refusedOn.scrCategory)(text, res, body);
      });
    }
  }
  K.order = order;

  /* ---------- idle ---------- */

  function armIdle() {
    clearTimeout(idleTimer);
    var elder = K.elderly && K.elderly.on && K.elderly.on();
    var start = st.current === "scrServices" || st.current === "scrLoading" || st.current === "scrClosed";
    // the start screen waits for the next citizen, unless this one's ID or 长者模式 is still up
    if (start && !st.person && !elder) return;
    if (st.current === "scrTicket" || st.current === "scrRejoined" || st.current === "scrComplained") startCountdown();
    idleTimer = setTimeout(function () { go("home"); }, elder ? IDLE_ELDER_MS : IDLE_MS);
  }
  K.armIdle = armIdle;

  function startCountdown() {
    clearInterval(countdownTimer);
    var end = Date.now() + (K.elderly && K.elderly.on && K.elderly.on() ? IDLE_ELDER_MS : IDLE_MS);
    var tick = function () {
      var s = Math.max(0, Math.ceil((end - Date.now()) / 1000));
      document.querySelectorAll(".countdown").forEach(function (el) { el.textContent = CH.t("back_in", { s: s }); });
    };
    tick();
    countdownTimer = setInterval(tick, 1000);
  }
  K.startCountdown = startCountdown;

  // the hall's time (its timezone, the server's clock), whatever the kiosk's own
  function tickClock() { CH.$("#clock").textContent = CH.clockText(null, true); }
  function fitName() { CH.fitText(CH.$("#hallName"), 24); }

  window.clearhallKiosk = {
    go: go,
    state: function () { return { screen: st.current, entry: st.entry, ticket: st.ticket }; }
  };
})();
