/* Kiosk (/kiosk#device=TOKEN): service → category (green channel explained) →
 * ID number or phone on an on-screen keypad where the service needs a real
 * name → the ticket on screen with its QR code and the printer's status.
 * Any screen goes back to the start after 30 s without a touch; a closed
 * hall shows its hours instead. */
(function () {
  "use strict";
  var CH = window.CH;
  CH.page = "kiosk";

  var IDLE_MS = 30000;
  var token = CH.deviceToken("kiosk");
  var services = [];
  var waiting = {};        // service code → people waiting (from the live queue)
  var hall = null;         // {name, open_now, hours}
  var choice = {};         // {service, category}
  var entry = { mode: "id", value: "" };
  var ticket = null;       // the last issued ticket (with key and url)
  var current = "scrLoading";
  var idleTimer = null, countdownTimer = null, printPoll = null;

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
  CH.$("#tabId").addEventListener("click", function () { setMode("id"); });
  CH.$("#tabPhone").addEventListener("click", function () { setMode("phone"); });
  CH.$("#confirmBtn").addEventListener("click", function () { issue(); });
  CH.$("#reprintBtn").addEventListener("click", reprint);
  document.addEventListener("keydown", onHardKey);
  buildKeypad();

  loadServices();
  setInterval(loadServices, 60000);

  // The waiting counts on the tiles come with the socket's snapshot and every
  // queue.changed; /api/queue is read only while the socket is down.
  new CH.Live("token=" + encodeURIComponent(token), {
    poll: function () {
      return CH.api("GET", "/api/queue", null, token).then(function (res) { if (res.ok) takeQueue(res.data); return res.ok; });
    },
    pollMs: 15000,
    onstatus: function (s) {
      CH.$("#offline").hidden = s !== "offline";
      if (s === "unauthorized") CH.showBlockerKeys("bad_token_title", "bad_token_detail");
      else CH.hideBlocker();
    },
    onstate: takeQueue
  });

  /* ---------- data ---------- */

  function loadServices() {
    return CH.readHall(token).then(function (res) {  // also sets the hall's clock
      if (res.status === 401 || res.status === 403) { CH.showBlockerKeys("bad_token_title", "bad_token_detail"); return; }
      if (!res.ok || !res.data) return;
      services = res.data.services || [];
      hall = res.data.hall || null;
      if (hall && hall.name) { CH.$("#hallName").textContent = hall.name; CH.$("#hallName").removeAttribute("data-t"); }
      tickClock();
      fitName();
      if (current === "scrLoading" || current === "scrClosed" || current === "scrServices") go("services");
    });
  }

  function takeQueue(data) {
    if (!data || !Array.isArray(data.services)) return;
    data.services.forEach(function (s) { waiting[s.code] = s.waiting; });
    if (current === "scrServices") renderServices();
  }

  function hallOpen() { return !hall || hall.open_now !== false; }

  /* ---------- screens ---------- */

  function show(id) {
    ["scrLoading", "scrServices", "scrCategory", "scrRealName", "scrIssuing", "scrTicket", "scrClosed"].forEach(function (s) {
      CH.$("#" + s).hidden = s !== id;
    });
    current = id;
    armIdle();
  }

  function go(where) {
    clearInterval(countdownTimer);
    clearInterval(printPoll);
    if (where === "services") {
      choice = {}; entry = { mode: "id", value: "" };
      if (!hallOpen()) { renderClosed(); show("scrClosed"); return; }
      renderServices(); show("scrServices");
    } else if (where === "category") {
      renderCategories(); show("scrCategory");
    } else if (where === "realname") {
      renderEntry(); show("scrRealName");
    }
  }

  function rerender() {
    if (current === "scrServices") renderServices();
    if (current === "scrCategory") renderCategories();
    if (current === "scrRealName") renderEntry();
    if (current === "scrTicket") renderTicket();
    if (current === "scrClosed") renderClosed();
  }

  function renderServices() {
    var box = CH.clear(CH.$("#serviceTiles"));
    if (!services.length) { box.appendChild(CH.el("p", { class: "big-note", text: CH.t("no_services") })); return; }
    services.forEach(function (s) {
      var open = s.open !== false;
      var n = waiting[s.code] !== undefined ? waiting[s.code] : s.waiting;
      box.appendChild(CH.el("button", {
        type: "button", class: "tile", "data-service": s.code, disabled: open ? null : "disabled",
        onclick: function () { choice = { service: s }; go("category"); }
      }, [
        CH.el("div", { class: "top" }, [CH.el("span", { class: "code", text: s.code }),
          s.real_name_required ? CH.el("span", { class: "meta" }, [CH.el("span", { class: "tag", text: CH.t("real_name_tag") })]) : null]),
        CH.el("div", { class: "name", text: s.name }),
        CH.el("div", { class: "meta" }, [open ? (n !== undefined && n !== null ? CH.t("waiting_n", { n: n }) : "") : CH.t("service_closed")])
      ]));
    });
  }

  function renderCategories() {
    CH.$("#catService").textContent = choice.service ? choice.service.code + " " + choice.service.name : "";
    CH.$("#catMsg").textContent = "";
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
  }

  function pick(category) {
    choice.category = category;
    if (choice.service.real_name_required) { entry = { mode: "id", value: "" }; go("realname"); }
    else issue();
  }

  /* ---------- ID / phone keypad ---------- */

  function buildKeypad() {
    var pad = CH.clear(CH.$("#keypad"));
    ["1", "2", "3", "4", "5", "6", "7", "8", "9", "X", "0"].forEach(function (k) {
      pad.appendChild(CH.el("button", { type: "button", class: "key", "data-key": k, text: k, onclick: function () { type(k); } }));
    });
    pad.appendChild(CH.el("button", { type: "button", class: "key fn", "data-key": "back", "data-t": "key_back", text: CH.t("key_back"), onclick: function () { type("back"); } }));
    pad.appendChild(CH.el("button", { type: "button", class: "key fn wide", "data-key": "clear", "data-t": "key_clear", text: CH.t("key_clear"), onclick: function () { type("clear"); } }));
  }

  function setMode(mode) { entry = { mode: mode, value: "" }; renderEntry(); }

  function maxLen() { return entry.mode === "id" ? 18 : 11; }

  function type(k) {
    var v = entry.value;
    if (k === "back") v = v.slice(0, -1);
    else if (k === "clear") v = "";
    else if (v.length < maxLen()) {
      if (k === "X" && (entry.mode !== "id" || v.length !== 17)) return;
      v += k;
    }
    entry.value = v;
    CH.$("#rnMsg").textContent = "";
    renderEntry();
  }

  function onHardKey(e) {
    // a USB keyboard or an ID-card reader acting as one
    if (current !== "scrRealName") return;
    if (/^[0-9]$/.test(e.key)) type(e.key);
    else if (e.key === "x" || e.key === "X") type("X");
    else if (e.key === "Backspace") type("back");
    else if (e.key === "Enter" && !CH.$("#confirmBtn").disabled) issue();
  }

  function entryState() {
    var v = entry.value;
    if (entry.mode === "id") {
      var st = CH.checkIdNumber(v);
      if (st === "ok") return { ok: true, cls: "ok", text: CH.t("id_ok") };
      if (st === "incomplete") return { ok: false, cls: "info", text: CH.t("id_progress", { n: v.length }) };
      return { ok: false, cls: "bad", text: CH.t("id_" + st) };
    }
    if (v.length && v[0] !== "1") return { ok: false, cls: "bad", text: CH.t("phone_bad") };
    if (v.length === 11) return { ok: true, cls: "ok", text: CH.t("phone_ok") };
    return { ok: false, cls: "info", text: CH.t("phone_progress", { n: v.length }) };
  }

  function renderEntry() {
    CH.$("#rnService").textContent = choice.service ? choice.service.code + " " + choice.service.name : "";
    CH.$("#tabId").setAttribute("aria-selected", entry.mode === "id" ? "true" : "false");
    CH.$("#tabPhone").setAttribute("aria-selected", entry.mode === "phone" ? "true" : "false");
    var box = CH.clear(CH.$("#entry"));
    var groups = entry.mode === "id" ? [6, 8, 4] : [3, 4, 4];
    var v = entry.value, at = 0;
    groups.forEach(function (len) {
      var part = v.slice(at, at + len);
      var span = CH.el("span", { class: "grp" }, [part]);
      if (part.length < len) span.appendChild(CH.el("span", { class: "ph", text: "·".repeat(len - part.length) }));
      box.appendChild(span);
      at += len;
    });
    var st = entryState();
    var fb = CH.$("#feedback");
    fb.textContent = st.text;
    fb.className = "feedback " + st.cls;
    CH.$("#confirmBtn").disabled = !st.ok;
    var xKey = document.querySelector("[data-key='X']");
    if (xKey) xKey.disabled = !(entry.mode === "id" && v.length === 17);
    document.querySelectorAll(".keypad .key:not(.fn)").forEach(function (b) {
      if (b.getAttribute("data-key") !== "X") b.disabled = v.length >= maxLen();
    });
  }

  /* ---------- issuing ---------- */

  var issuing = false;
  function issue() {
    if (issuing) return;
    issuing = true;
    var back = current;
    var body = { service: choice.service.code, category: choice.category || "normal" };
    if (current === "scrRealName") {
      if (entry.mode === "id") body.id_number = entry.value; else body.phone = entry.value;
    }
    show("scrIssuing");
    // One key for this ticket: if the answer is lost on the network, the retry
    // gets the same ticket back from the server, never a second one.
    var attempt = "issue-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
    send(1);

    function send(tries) {
    CH.api("POST", "/api/tickets", body, token, { "Idempotency-Key": attempt }).then(function (res) {
      if (res.status === 0 && tries < 3) { setTimeout(function () { send(tries + 1); }, 1000); return; }
      issuing = false;
      if (res.ok && res.data && res.data.ticket) {
        ticket = res.data.ticket;
        entry.value = "";
        renderTicket();
        show("scrTicket");
        startCountdown();
        watchPrint();
        return;
      }
      if (res.status === 401) { CH.showBlockerKeys("bad_token_title", "bad_token_detail"); return; }
      var text = res.error && res.error.code === "limit_exceeded" ?
        CH.t("limit_exceeded", { msg: CH.errorText(res) }) : CH.t("issue_failed", { msg: CH.errorText(res) });
      if (back === "scrRealName") { renderEntry(); show("scrRealName"); CH.$("#rnMsg").textContent = text; }
      else { renderCategories(); show("scrCategory"); CH.$("#catMsg").textContent = text; }
    });
    }
  }

  function renderTicket() {
    if (!ticket) return;
    CH.$("#tNumber").textContent = ticket.number;
    var svc = services.filter(function (s) { return s.code === ticket.service; })[0];
    CH.$("#tService").textContent = (svc ? svc.name : ticket.service) + (ticket.category && ticket.category !== "normal" ? " · " + CH.categoryName(ticket.category) : "");
    var ahead = CH.$("#tAhead");
    CH.clear(ahead);
    var parts = CH.t("ticket_ahead", { n: "\u0000" }).split("\u0000");
    ahead.appendChild(document.createTextNode(parts[0]));
    ahead.appendChild(CH.el("b", { text: String(ticket.ahead === undefined || ticket.ahead === null ? "—" : ticket.ahead) }));
    ahead.appendChild(document.createTextNode(parts[1] || ""));
    CH.$("#tWait").textContent = CH.t("ticket_wait", { w: CH.fmtTicketWait(ticket) });
    var qrBox = CH.clear(CH.$("#tQr"));
    if (ticket.url && window.qrcode) {
      var qr = window.qrcode(0, "M");
      qr.addData(ticket.url);
      qr.make();
      qrBox.innerHTML = qr.createSvgTag({ cellSize: 6, margin: 2, scalable: true });
      qrBox.setAttribute("data-url", ticket.url);
    }
    renderPrint();
  }

  function renderPrint() {
    var p = ticket && ticket.print;
    var status = p && p.status ? p.status : "none";
    var box = CH.$("#printBox");
    box.className = "print " + status;
    var text = CH.t("print_" + (["queued", "printed", "failed"].indexOf(status) >= 0 ? status : "none"));
    var fault = status === "failed" && p.error && CH.lookup("print_fault_" + p.error);
    CH.$("#printText").textContent = fault ? CH.t("print_fault_" + p.error) + (CH.lang === "en" ? ". " : "。") + text : text;
    CH.$("#reprintBtn").hidden = status !== "failed";
    box.setAttribute("data-status", status);
  }

  /* The printer answers after the ticket: re-read the ticket for a few seconds. */
  function watchPrint() {
    clearInterval(printPoll);
    if (!ticket || !ticket.print || ticket.print.status !== "queued") return;
    var tries = 0;
    var mine = ticket;
    printPoll = setInterval(function () {
      tries += 1;
      if (tries > 12 || ticket !== mine) { clearInterval(printPoll); return; }
      CH.api("GET", "/api/tickets/" + encodeURIComponent(mine.id) + "?key=" + encodeURIComponent(mine.key), null, null).then(function (res) {
        if (!res.ok || !res.data || !res.data.ticket || ticket !== mine) return;
        var pr = res.data.ticket.print;
        if (pr && pr.status && pr.status !== "queued") {
          mine.print = pr;
          renderPrint();
          clearInterval(printPoll);
        }
      });
    }, 1000);
  }

  function reprint() {
    if (!ticket) return;
    CH.api("POST", "/api/tickets/" + encodeURIComponent(ticket.id) + "/reprint", {}, token).then(function (res) {
      if (res.ok) {
        ticket.print = (res.data && res.data.ticket && res.data.ticket.print) || (res.data && res.data.print) || { status: "queued" };
        renderPrint();
        if (ticket.print.status === "queued") watchPrint();
      } else {
        CH.$("#printText").textContent = CH.t("print_failed") + " (" + CH.errorText(res) + ")";
      }
    });
  }

  /* ---------- idle and closed ---------- */

  function armIdle() {
    clearTimeout(idleTimer);
    if (current === "scrServices" || current === "scrLoading" || current === "scrClosed") return;
    if (current === "scrTicket") startCountdown();
    idleTimer = setTimeout(function () { go("services"); }, IDLE_MS);
  }

  function startCountdown() {
    clearInterval(countdownTimer);
    var end = Date.now() + IDLE_MS;
    var tick = function () {
      var s = Math.max(0, Math.ceil((end - Date.now()) / 1000));
      CH.$("#countdown").textContent = CH.t("back_in", { s: s });
    };
    tick();
    countdownTimer = setInterval(tick, 1000);
  }

  function renderClosed() {
    CH.$("#closedHours").textContent = CH.t("closed_hours", { h: (hall && hall.hours) || "—" });
  }

  // the hall's time (its timezone, the server's clock), whatever the kiosk's own
  function tickClock() { CH.$("#clock").textContent = CH.clockText(null, true); }
  function fitName() { CH.fitText(CH.$("#hallName"), 24); }

  window.clearhallKiosk = { go: go, state: function () { return { screen: current, entry: entry, ticket: ticket }; } };
})();
