/* Citizen's phone page (/t/{id}?key=KEY, the QR on the receipt): place in line,
 * live over /ws?ticket=ID&key=KEY; when called, a full-screen notice and a
 * vibration; after the service, 好差评 (phone-rating.js: one touch for a good
 * rating, reasons for a 差评; the first rating wins, rated at the pad it says
 * "已评价，谢谢"); any time, 投诉 / 监督 and the handling of its cases
 * (phone-complaint.js). Both are loaded before this file, which starts them.
 *
 * 叫号提醒: a tap on 开启叫号提醒 unlocks sound and vibration (CH.Alerts,
 * phone-alerts.js). Then the early warning (at most `alert_ahead` of
 * /api/policy ahead: a banner, a soft chime) and the call (the full-screen
 * notice, a louder chime, a long vibration) ring by themselves; without the
 * tap the banners alone show. 一次性告知: the ticket's `materials` and `where`
 * (the documents to bring, and where it is handled) show under the number. */
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
  var serviceNames = {};
  var R = CH.phoneRating, C = CH.phoneComplaint;
  var alertAhead = null; // from /api/policy (default 3; 0 = no early warning)
  var alerts = id && CH.Alerts ? new CH.Alerts(id) : null;
  var recallAt = ""; // the latest recall of this ticket: a recall rings again

  CH.applyStrings();
  CH.$("#langBtn").addEventListener("click", function () { CH.toggleLang(); });
  CH.onlang = function () { R.relabel(); C.relabel(); render(); };
  CH.$("#calledOk").addEventListener("click", function () {
    CH.$("#called").hidden = true;
    if (ticket) dismissedCall = ticket.number + "@" + windowOf(ticket);
  });
  CH.$("#alertOn").addEventListener("click", function () { alerts.enable(); renderAlerts(); setTimeout(renderAlerts, 300); });
  CH.$("#alertOff").addEventListener("click", function () { alerts.disable(); renderAlerts(); });
  CH.$("#alertResume").addEventListener("click", function () { alerts.unlock(); setTimeout(renderAlerts, 300); });
  // opened again after opting in: any tap brings the sound back (browsers want a gesture per page)
  document.addEventListener("pointerdown", function () {
    if (alerts && alerts.locked()) { alerts.unlock(); setTimeout(renderAlerts, 300); }
  }, true);

  if (!id || !key) { CH.showBlockerKeys("no_key_title", "no_key_detail"); return; }
  R.init({ id: id, key: key, reload: function () { return load(); }, onCase: function (c) { C.remember(c); } });
  C.init({ id: id, key: key, reload: function () { return load(); } });

  var auth = "ticket=" + encodeURIComponent(id) + "&key=" + encodeURIComponent(key);
  load();
  CH.api("GET", "/api/policy", null, null).then(function (res) {
    var n = res.ok && res.data && res.data.policy ? res.data.policy.alert_ahead : null;
    alertAhead = typeof n === "number" && n >= 0 ? n : 3;
    render();
  });
  CH.api("GET", "/api/services", null, null).then(function (res) {
    if (res.ok && res.data && res.data.services) { serviceNames = {}; res.data.services.forEach(function (x) { serviceNames[x.code] = x.name; }); render(); }
  });
  // The socket tells this page about its own ticket only (docs/api.md, /ws): its
  // place (ticket.place) soon after connecting and whenever a burst of events
  // moved it, and its own events. A new place of the same status is drawn as it
  // comes; the ticket is read again only when its status changed or an event
  // about it came (at once when it is called), never because the hall moved.
  var reload = CH.debounce(load, 300);
  new CH.Live(auth, {
    poll: function () { return load().then(function (ok) { return ok; }); },
    onstatus: function (s) {
      CH.$("#offline").hidden = s !== "offline";
      if (s === "unauthorized") CH.showBlockerKeys("no_key_title", "bad_key_detail");
    },
    onevent: function (msg) {
      var mine = ticket && msg.ticket && msg.ticket.number === ticket.number;
      if (msg.event === "ticket.place" && mine) place(msg.ticket);
      if (msg.event === "ticket.called" && mine) {
        if (msg.recall) { recallAt = msg.at || String(Date.now()); dismissedCall = null; }
        load();
      }
      if (mine && ["ticket.finished", "ticket.no_show", "ticket.rejoined"].indexOf(msg.event) >= 0) reload();
      if (msg.event === "rating.closed" && msg.ticket && msg.ticket.id === id) R.closed();
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
      stamp();
      render();
      return true;
    });
  }

  /* ticket.place {number, status, ahead, estimated_wait_s, window}: the same status
   * is drawn without a request; another one is read whole (the rating, the cases,
   * what is missing come with it). */
  function place(p) {
    if (p.status !== ticket.status) { reload(); return; }
    ticket.ahead = p.ahead;
    ticket.estimated_wait_s = p.estimated_wait_s;
    ticket.window = p.window;
    stamp();
    render();
  }

  function stamp() {
    var now = new Date();
    CH.$("#updated").textContent = CH.t("updated", { t: CH.pad2(now.getHours()) + ":" + CH.pad2(now.getMinutes()) + ":" + CH.pad2(now.getSeconds()) });
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
    var near = isNear();
    CH.$("#nearBox").hidden = !near;
    if (near) {
      CH.$("#nearText").textContent = ticket.ahead === 0 ? CH.t("near_next") : CH.t("near_text", { n: ticket.ahead });
      if (alerts) alerts.near();
    }
    renderAlerts();
    renderGuide();
    renderNote();
    R.take(ticket);
    C.take(ticket);

    var win = windowOf(ticket);
    if (ticket.status === "called" && dismissedCall !== ticket.number + "@" + win) {
      CH.$("#calledNumber").textContent = ticket.number;
      CH.$("#calledGo").textContent = CH.t("called_go", { n: win === null ? "?" : win });
      var rang = alerts ? alerts.called(ticket.number + "@" + win + "@" + (ticket.called_at || "") + "@" + recallAt) : false;
      // not opted in: a vibration still, which browsers allow once the page has been touched
      if (CH.$("#called").hidden && !rang && navigator.vibrate) navigator.vibrate([400, 200, 400, 200, 800]);
      CH.$("#called").hidden = false;
    } else if (ticket.status !== "called") {
      CH.$("#called").hidden = true;
    }
    lastStatus = ticket.status;
  }

  function isNear() {
    return alertAhead !== null && alertAhead > 0 && ticket.status === "waiting" &&
      typeof ticket.ahead === "number" && ticket.ahead <= alertAhead;
  }

  /* The opt-in: a big button; once on, what it does and a way to turn it off;
   * opted in but silent (the page opened again), a tap to bring the sound back. */
  function renderAlerts() {
    var box = CH.$("#alertBox");
    box.hidden = !alerts || !ticket || (ticket.status !== "waiting" && ticket.status !== "suspended");
    if (box.hidden) return;
    var on = alerts.on(), locked = alerts.locked();
    CH.$("#alertOn").hidden = on;
    CH.$("#alertResume").hidden = !locked;
    CH.$("#alertState").hidden = !on || locked;
    CH.$("#alertDetail").textContent = alertAhead === 0 ? CH.t("alert_detail_off") : CH.t("alert_detail", { n: alertAhead === null ? 3 : alertAhead });
    var explain = CH.$("#alertExplain");
    explain.hidden = on;
    explain.textContent = CH.t(!alerts.capable() ? "alert_explain_screen" : alertAhead === 0 ? "alert_explain_off" : "alert_explain");
  }

  /* 一次性告知: where it is handled and the documents to bring, while they still matter. */
  function renderGuide() {
    var docs = Array.isArray(ticket.materials) ? ticket.materials : [];
    var where = typeof ticket.where === "string" && ticket.where ? ticket.where : null;
    var box = CH.$("#guide");
    box.hidden = !(docs.length || where) || ["waiting", "called", "serving", "suspended"].indexOf(ticket.status) < 0;
    if (box.hidden) return;
    CH.$("#guideWhere").hidden = !where;
    CH.$("#guideWhere").textContent = where ? CH.t("guide_where", { where: where }) : "";
    CH.$("#guideDocs").hidden = !docs.length;
    var list = CH.clear(CH.$("#guideList"));
    docs.forEach(function (x) { list.appendChild(CH.el("li", { text: String(x) })); });
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

  window.clearhallPhone = { state: function () { return { ticket: ticket, lastStatus: lastStatus, rated: R.isRated() }; } };
})();
