/* Supervisor dashboard (/supervisor): a supervisor or admin logs in and watches
 * the hall live — waiting per service, every window, the printers and their
 * failed jobs, the integrity notices (清廉知识上屏, which they manage here) and
 * the action log, with out-of-order calls (指呼) picked out; and a kiosk's
 * 呼叫导办 (guide.called) as a red alert in the top bar until someone takes it.
 *
 * Live data: one WebSocket (/ws?token=…) gives the queue snapshot, then events;
 * queue.changed carries the whole queue and is taken as it is (/api/queue is
 * read only while the socket is down). Printers, jobs, notices and the log are
 * read over HTTP when an event says they may have changed, and every 30 s.
 *
 * This file is the dashboard's core: the session, the live feed, the services
 * and windows, the summary and the action log. The printers
 * (supervisor-printers.js) and the notices (supervisor-notices.js) are loaded
 * before it and share CH.supervisor with it; this file, loaded last, starts the
 * page. Other parts (the 好差评 panel, the 差评整改 cases) put themselves in
 * S.parts, {start, stop, render, tick, event}, and are called here at those
 * moments: start and stop with the session, render on a language switch,
 * tick every 30 s and after a reconnect, event with every socket event. */
(function () {
  "use strict";
  var CH = window.CH;
  var S = CH.supervisor = CH.supervisor || {};
  CH.page = "supervisor";

  var SUPERVISOR_ROLES = ["supervisor", "admin"];
  var STORE_KEY = "clearhall.supervisor";

  var store = window.sessionStorage;
  var session = load();            // {token, staff}
  var live = null;
  var timer = null;
  var queue = { services: [], windows: [], notices: [] };  // changed in place, never replaced: S.queue
  var audit = { entries: null, error: null };
  var guideCalls = [];             // open 呼叫导办 calls of the kiosks, newest first

  S.session = function () { return session; };
  S.api = api;
  S.expired = expired;
  S.queue = queue;
  S.renderSummary = renderSummary;
  S.hallTime = hallTime;
  S.hallReady = Promise.resolve();
  var parts = S.parts = S.parts || [];
  function each(name, arg) { parts.forEach(function (p) { if (p[name]) p[name](arg); }); }

  CH.applyStrings();
  CH.onlang = function () { renderAll(); };
  document.querySelectorAll("[data-action='lang']").forEach(function (b) { b.addEventListener("click", CH.toggleLang); });
  CH.$("#loginForm").addEventListener("submit", onLogin);
  CH.$("#logoutBtn").addEventListener("click", logout);
  CH.$("#auditRefresh").addEventListener("click", refreshAudit);
  document.addEventListener("keydown", function (e) {
    var tag = (e.target && e.target.tagName) || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || e.ctrlKey || e.metaKey || e.altKey) return;
    if (CH.$("#noticeDlg").open || CH.$("#previewDlg").open) return;
    if (e.key === "l" || e.key === "L") CH.toggleLang();
  });
  route();

  /* ---------- session ---------- */

  function load() {
    try { return JSON.parse(store.getItem(STORE_KEY) || "null"); } catch (e) { return null; }
  }
  function save() {
    try {
      if (session) store.setItem(STORE_KEY, JSON.stringify(session));
      else store.removeItem(STORE_KEY);
    } catch (e) { /* private mode */ }
  }

  function route() {
    CH.$("#loginView").hidden = !!session;
    CH.$("#dashView").hidden = !session;
    if (!session) { setTimeout(function () { CH.$("#username").focus(); }, 0); return; }
    start();
  }

  function isSupervisor(staff) {
    return !!staff && SUPERVISOR_ROLES.indexOf(staff.role) >= 0;
  }

  function onLogin(e) {
    e.preventDefault();
    var msg = CH.$("#loginMsg");
    msg.textContent = "";
    CH.$("#loginBtn").disabled = true;
    CH.api("POST", "/api/login", { username: CH.$("#username").value.trim(), password: CH.$("#password").value }).then(function (res) {
      CH.$("#loginBtn").disabled = false;
      if (!res.ok) {
        msg.textContent = CH.t("login_failed", { msg: res.status === 401 ? (res.error.message || CH.t("err_unauthorized")) : CH.errorText(res) });
        return;
      }
      var token = res.data.token, staff = res.data.staff || {};
      var check = staff.role ? Promise.resolve(isSupervisor(staff)) :
        // a server that does not say the role: ask for something only supervisors may read
        CH.api("GET", "/api/printers", null, token).then(function (r) { return r.status !== 403; });
      check.then(function (allowed) {
        CH.$("#password").value = "";
        if (!allowed) {
          CH.api("POST", "/api/logout", {}, token);   // this log-in is of no use here: end it
          msg.textContent = CH.t("need_supervisor", { name: staff.name || staff.username || "" });
          return;
        }
        session = { token: token, staff: staff };
        save();
        route();
      });
    });
  }

  function logout() {
    var tok = session && session.token;
    stop();
    session = null; save();
    if (tok) CH.api("POST", "/api/logout", {}, tok);
    route();
  }

  function expired() {
    stop();
    session = null; save();
    route();
    CH.$("#loginMsg").textContent = CH.t("session_expired");
  }

  function stop() {
    if (live) { live.close(); live = null; }
    clearInterval(timer); timer = null;
    each("stop");
  }

  /* Every API call of the dashboard: a 401 ends the session. */
  function api(method, path, body) {
    if (!session) return Promise.resolve({ ok: false, status: 401, data: null, error: { code: "unauthorized", message: "" } });
    return CH.api(method, path, body, session.token).then(function (res) {
      if (res.status === 401 && session) expired();
      return res;
    });
  }

  /* ---------- the live dashboard ---------- */

  function start() {
    var st = session.staff || {};
    CH.$("#who").textContent = (st.name || st.username || "") + (st.role ? " · " + CH.t("role_" + st.role) : "");
    renderAll();
    S.refreshPrinting();
    S.refreshNotices();
    refreshAudit();
    refreshGuide();
    // the hall's name, and its clock for the parts (S.hallReady: once it is known, or could not be)
    S.hallReady = CH.readHall(session.token).then(function (res) {
      if (res.ok && res.data && res.data.hall && res.data.hall.name) CH.$("#hallName").textContent = res.data.hall.name;
    });
    stop();
    each("start");
    live = new CH.Live("token=" + encodeURIComponent(session.token), {
      poll: function () {
        S.refreshPrinting();
        refreshAuditLater();
        return CH.api("GET", "/api/queue", null, session && session.token).then(function (res) {
          if (res.ok) takeQueue(res.data);
          return res.ok;
        });
      },
      onstatus: function (s) {
        CH.$("#offline").hidden = s !== "offline";
        var el = CH.$("#live");
        el.setAttribute("data-state", s);
        el.textContent = CH.t("live_" + s);
        if (s === "unauthorized") expired();
      },
      onstate: function (state) {
        takeQueue(state);
        if (state.type === "snapshot") { refreshPrintingLater(); refreshAuditLater(); refreshGuide(); each("tick"); }
      },
      onevent: onEvent
    });
    timer = setInterval(function () { S.refreshPrinting(); refreshAudit(); refreshGuide(); each("tick"); }, 30000);
  }

  function onEvent(msg) {
    var ev = msg.event;
    var changed = CH.changedWindow(msg);
    if (changed) {
      queue.windows = queue.windows.map(function (w) { return w.number === changed.number ? changed : w; });
      renderWindows();
      renderSummary();
    }
    if (ev === "printer.changed") {
      S.takePrinter(msg.printer);
      refreshPrintingLater();
    } else if (ev === "ticket.issued") {
      refreshPrintingLater();
    }
    if (ev === "notice.changed") S.refreshNotices();
    if (ev === "guide.called" && msg.call && msg.call.id) {
      if (heardGuide) heardGuide.called[msg.call.id] = true;
      guideCalls = [msg.call].concat(guideCalls.filter(function (c) { return c.id !== msg.call.id; }));
      renderSummary();
    } else if (ev === "guide.answered" && msg.call) {
      if (heardGuide) heardGuide.answered[msg.call.id] = true;
      dropGuideCall(msg.call.id);
    }
    if (ev !== "queue.changed") refreshAuditLater();
    each("event", msg);
  }

  var refreshPrintingLater = CH.debounce(S.refreshPrinting, 600);
  var refreshAuditLater = CH.debounce(refreshAudit, 800);

  function takeQueue(data) {
    if (!data) return;
    ["services", "windows", "notices"].forEach(function (k) { if (Array.isArray(data[k])) queue[k] = data[k]; });
    renderServices();
    renderWindows();
    S.renderNotices();   // "on screen now" comes from the queue's notices
    renderSummary();
  }

  function renderAll() {
    renderServices();
    renderWindows();
    S.renderPrinters();
    S.renderJobs();
    S.renderNotices();
    renderAudit();
    renderSummary();
    each("render");
    var liveEl = CH.$("#live");
    liveEl.textContent = CH.t("live_" + (liveEl.getAttribute("data-state") || "connecting"));
  }

  /* ---------- queue: services and windows ---------- */

  function renderServices() {
    var tb = CH.clear(CH.$("#services"));
    if (!queue.services.length) {
      tb.appendChild(CH.el("tr", { class: "empty" }, [CH.el("td", { colspan: "3", text: CH.t("services_none") })]));
      return;
    }
    queue.services.forEach(function (s) {
      tb.appendChild(CH.el("tr", { "data-service": s.code, class: s.waiting > 0 ? "" : "quiet" }, [
        CH.el("td", {}, [CH.el("b", { class: "code", text: s.code }), " ", s.name]),
        CH.el("td", { class: "n big", text: String(s.waiting || 0) }),
        CH.el("td", { class: "n", text: s.waiting > 0 ? CH.fmtWait(s.estimated_wait_s) : CH.t("wait_none") })
      ]));
    });
  }

  function renderWindows() {
    var tb = CH.clear(CH.$("#windows"));
    if (!queue.windows.length) {
      tb.appendChild(CH.el("tr", { class: "empty" }, [CH.el("td", { colspan: "5", text: CH.t("windows_none") })]));
      return;
    }
    queue.windows.forEach(function (w) {
      var status = w.status || "closed";
      var statusCell = CH.el("td", { class: "st" }, [CH.el("span", { class: "pill " + status, text: CH.t("status_" + status) })]);
      if (status === "paused" && w.pause_reason) statusCell.appendChild(CH.el("span", { class: "reason", text: w.pause_reason, title: w.pause_reason }));
      var staff = w.staff ? CH.el("td", { class: "staff" }, [w.staff.name || "", w.staff.party_member ? CH.el("span", { class: "badge-party", text: CH.t("party_short") }) : null]) :
        CH.el("td", { class: "staff none", text: CH.t("no_staff") });
      var cur = w.current ? CH.el("td", { class: "cur" }, [
        CH.el("b", { text: w.current.number }),
        w.current.status ? CH.el("span", { class: "cur-st", text: CH.t("tstatus_" + w.current.status) }) : null
      ]) : CH.el("td", { class: "cur none", text: "—" });
      tb.appendChild(CH.el("tr", { "data-window": w.number, class: "w-" + status }, [
        CH.el("td", { class: "num" }, [CH.el("b", { text: String(w.number) })]),
        statusCell, staff, cur,
        CH.el("td", { class: "svc", text: (w.services || []).join(" ") })
      ]));
    });
  }

  function renderSummary() {
    var box = CH.clear(CH.$("#summary"));
    var waiting = queue.services.reduce(function (n, s) { return n + (s.waiting || 0); }, 0);
    var open = queue.windows.filter(function (w) { return w.status === "open"; }).length;
    var paused = queue.windows.filter(function (w) { return w.status === "paused"; }).length;
    box.appendChild(CH.el("span", { class: "sum" }, [CH.t("sum_waiting") + " ", CH.el("b", { text: String(waiting) })]));
    box.appendChild(CH.el("span", { class: "sum" }, [CH.t("sum_open") + " ", CH.el("b", { text: open + "/" + queue.windows.length })]));
    if (paused) box.appendChild(CH.el("span", { class: "sum" }, [CH.t("sum_paused") + " ", CH.el("b", { text: String(paused) })]));
    var alerts = S.printerAlerts(), bad = alerts.bad, warn = alerts.warn;
    if (bad) box.appendChild(CH.el("span", { class: "alert bad", id: "printerAlert", text: CH.t("sum_printer_bad", { n: bad }) }));
    else if (warn) box.appendChild(CH.el("span", { class: "alert warn", id: "printerAlert", text: CH.t("sum_printer_warn", { n: warn }) }));
    var call = guideCalls[0];
    CH.$("#hallName").hidden = !!call;  // the bar makes room for the call
    if (call) {
      box.appendChild(CH.el("span", { class: "alert bad", id: "guideAlert", "data-call": call.id }, [
        CH.t("guide_alert", { kiosk: call.kiosk, t: hallTime(call.at), where: CH.t("gscreen_" + (call.screen || "start")) }) +
          (guideCalls.length > 1 ? " " + CH.t("guide_more", { n: guideCalls.length - 1 }) : "") + " ",
        CH.el("button", { type: "button", class: "btn tiny", id: "guideDone", text: CH.t("guide_done"), onclick: function () { answerGuide(call); } })
      ]));
    }
  }

  /* ---------- 呼叫导办 ---------- */

  /* The open calls as the server lists them, and what the socket said while the list was on
   * its way: a call announced meanwhile stays, one answered meanwhile stays gone. */
  var heardGuide = null;
  function refreshGuide() {
    var heard = heardGuide = { called: {}, answered: {} };
    return api("GET", "/api/guide-calls").then(function (res) {
      if (heardGuide === heard) heardGuide = null;
      if (!(res.ok && res.data && Array.isArray(res.data.calls))) return;
      var listed = res.data.calls.filter(function (c) { return !heard.answered[c.id]; });
      var ids = listed.map(function (c) { return c.id; });
      var since = guideCalls.filter(function (c) { return heard.called[c.id] && ids.indexOf(c.id) < 0; });
      guideCalls = since.concat(listed);
      renderSummary();
    });
  }

  function dropGuideCall(id) {
    guideCalls = guideCalls.filter(function (c) { return c.id !== id; });
    renderSummary();
  }

  /* Taken care of: gone from here at once, and from every dashboard by guide.answered. */
  function answerGuide(call) {
    dropGuideCall(call.id);
    api("POST", "/api/guide-calls/" + encodeURIComponent(call.id) + "/answer", {}).then(function (res) {
      if (!res.ok && res.status !== 404) refreshGuide();
    });
  }

  /* ---------- the action log ---------- */

  function refreshAudit() {
    return api("GET", "/api/audit-log?limit=50").then(function (res) {
      if (res.ok && res.data && Array.isArray(res.data.entries)) audit = { entries: res.data.entries, error: null };
      else if (res.status === 404) audit = { entries: null, error: CH.t("audit_missing") };
      else if (res.status !== 401) audit = { entries: audit.entries, error: CH.t("audit_failed", { msg: CH.errorText(res) }) };
      renderAudit();
    });
  }

  function actorText(e) {
    if (e.actor_kind === "staff") return e.actor_name || CH.t("actor_staff");
    if (e.actor_kind === "device") return CH.t("actor_device", { name: e.actor_name || "" });
    if (e.actor_kind === "citizen") return CH.t("actor_citizen");
    if (e.actor_kind === "system") return CH.t("actor_system");
    return e.actor_name || e.actor_kind || "";
  }

  function actionText(action) {
    var key = "act_" + action;
    var t = CH.t(key);
    return t === key ? action : t;
  }

  function renderAudit() {
    CH.$("#auditMsg").textContent = audit.error || "";
    var ol = CH.clear(CH.$("#audit"));
    if (!audit.entries) { if (!audit.error) ol.appendChild(CH.el("li", { class: "empty", text: CH.t("loading") })); return; }
    if (!audit.entries.length) { ol.appendChild(CH.el("li", { class: "empty", text: CH.t("audit_none") })); return; }
    var newestDay = (audit.entries[0].at || "").slice(0, 10);
    audit.entries.forEach(function (e) {
      var out = e.action === "call";
      var day = (e.at || "").slice(0, 10);
      var line = CH.el("div", { class: "a-line" }, [
        CH.el("span", { class: "a-time", title: e.at || "", text: (day && day !== newestDay ? day.slice(5) + " " : "") + hallTime(e.at, true) }),
        CH.el("span", { class: "a-act", text: actionText(e.action) }),
        e.ticket_number ? CH.el("b", { class: "a-num", text: e.ticket_number }) : null,
        e.window ? CH.el("span", { class: "a-win", text: CH.t("window_n", { n: e.window }) }) : null,
        CH.el("span", { class: "a-who", text: actorText(e) })
      ]);
      var li = CH.el("li", { "data-entry": e.id, "data-action": e.action, class: out ? "out-of-order" : "" }, [line]);
      if (out) {
        li.appendChild(CH.el("div", { class: "a-flag" }, [
          CH.el("b", { text: CH.t("out_of_order") }),
          " " + (!e.rule_ticket_number ? CH.t("rule_none") :
            e.rule_ticket_number === e.ticket_number ? CH.t("rule_same", { n: e.rule_ticket_number }) :
            CH.t("rule_would", { n: e.rule_ticket_number }))
        ]));
      }
      if (e.reason) li.appendChild(CH.el("div", { class: "a-reason", text: CH.t("reason_is", { r: e.reason }) }));
      ol.appendChild(li);
    });
  }

  /* "2026-11-29T10:32:05+08:00" → "10:32" (or "10:32:05"): the hall's own clock,
   * as the server wrote it, whatever the browser's time zone. */
  function hallTime(iso, seconds) {
    var m = /T(\d\d:\d\d)(:\d\d)?/.exec(iso || "");
    if (!m) return "";
    return seconds && m[2] ? m[1] + m[2] : m[1];
  }

  window.clearhallSupervisor = { refreshAudit: refreshAudit, refreshPrinting: S.refreshPrinting };
})();
