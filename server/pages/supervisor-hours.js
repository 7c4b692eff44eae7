/* Supervisor dashboard, 便民服务 view: 延时服务 (extended hours, CONTRACT §12).
 * The sessions in force (GET /api/extended-hours) — their services, until
 * when, who opened them and when — each with 结束 (two clicks; DELETE
 * /api/extended-hours/{id}); and a form to open one for any services (the
 * hall's, from the live queue) until a time today on the hall's clock (an
 * hour from now rounded up to the quarter is offered; a time at or before now
 * means after midnight), POST /api/extended-hours. Followed live
 * (hours.changed), read at the start and every 30 s; a session whose time has
 * passed is dropped here without waiting for the server.
 *
 * Part of /supervisor: loaded after supervisor-booking.js (whose view it is
 * in) and before supervisor.js, which starts it through S.parts. */
(function () {
  "use strict";
  var CH = window.CH;
  var S = CH.supervisor = CH.supervisor || {};

  var CONFIRM_MS = 5000;
  var sessions = null;             // in force: [{id, services, until, opened_by, opened_at}]; null before the first read
  var error = null;
  var ticked = {};                 // service code → ticked in the form

  CH.$("#exForm").addEventListener("submit", openSession);
  S.onBooking(function () {
    if (!CH.$("#exUntil").value) CH.$("#exUntil").value = CH.untilDefault();
    renderForm();
    load();
  });
  setInterval(function () { if (S.bookingShown()) renderList(); }, 15000);

  function load() {
    return S.api("GET", "/api/extended-hours").then(function (res) {
      if (res.ok && res.data && Array.isArray(res.data.extended)) { sessions = res.data.extended; error = null; }
      else if (res.status !== 401) error = CH.errorText(res);
      renderList();
    });
  }

  function names(codes) {
    var byCode = {};
    (S.queue.services || []).forEach(function (s) { byCode[s.code] = s.name; });
    return (codes || []).map(function (c) { return byCode[c] ? c + " " + byCode[c] : c; }).join("、");
  }

  /* ---------- the sessions in force ---------- */

  function renderList() {
    var ul = CH.clear(CH.$("#exList"));
    if (error) ul.appendChild(CH.el("li", { class: "msg error", text: error }));
    if (!sessions) { if (!error) ul.appendChild(CH.el("li", { class: "empty", text: CH.t("loading") })); return; }
    var now = CH.hallNow().getTime();
    var list = sessions.filter(function (s) { return Date.parse(s.until) > now; });
    if (!list.length) { ul.appendChild(CH.el("li", { class: "empty", text: CH.t("ex_none") })); return; }
    list.forEach(function (s) {
      var end = CH.el("button", { type: "button", class: "btn tiny danger", "data-end": s.id, text: CH.t("ex_end") });
      end.addEventListener("click", function () { endSession(s, end); });
      ul.appendChild(CH.el("li", { class: "ex-item", "data-session": s.id }, [
        CH.el("div", { class: "ex-what", text: names(s.services) }),
        CH.el("b", { class: "ex-until", text: CH.t("ex_until", { t: CH.fmtTime(s.until) }) }),
        CH.el("div", { class: "ex-by", text: CH.t("ex_by", { name: s.opened_by || "", t: CH.fmtTime(s.opened_at) }) }),
        end
      ]));
    });
  }

  /* Two clicks end it: the first asks on the button, the second (within 5 s) does it. */
  function endSession(s, btn) {
    if (!btn.classList.contains("confirm")) {
      btn.classList.add("confirm");
      btn.textContent = CH.t("ex_end_confirm");
      setTimeout(function () { btn.classList.remove("confirm"); btn.textContent = CH.t("ex_end"); }, CONFIRM_MS);
      return;
    }
    btn.disabled = true;
    S.api("DELETE", "/api/extended-hours/" + s.id).then(function (res) {
      if (!res.ok && res.status !== 404) { btn.disabled = false; say(CH.errorText(res), "error"); return; }
      // (404: it had ended meanwhile)
      sessions = (sessions || []).filter(function (x) { return x.id !== s.id; });
      say(CH.t("ex_ended", { what: names(s.services) }), "ok");
      renderList();
    });
  }

  /* ---------- opening one ---------- */

  function renderForm() {
    var box = CH.clear(CH.$("#exServices"));
    (S.queue.services || []).forEach(function (s) {
      var input = CH.el("input", { type: "checkbox", value: s.code, "data-service": s.code, checked: ticked[s.code] ? "checked" : null });
      input.addEventListener("change", function () { ticked[s.code] = input.checked; });
      box.appendChild(CH.el("label", { class: "check" }, [input, CH.el("b", { class: "code", text: s.code }), " " + s.name]));
    });
  }

  function openSession(e) {
    e.preventDefault();
    var codes = Object.keys(ticked).filter(function (c) { return ticked[c]; });
    var until = CH.$("#exUntil").value;
    if (!codes.length) { say(CH.t("ex_need_service"), "error"); return; }
    if (!until) { say(CH.t("ex_need_until"), "error"); CH.$("#exUntil").focus(); return; }
    var btn = CH.$("#exOpen");
    btn.disabled = true;
    S.api("POST", "/api/extended-hours", { services: codes, until: CH.untilValue(until) }).then(function (res) {
      btn.disabled = false;
      CH.$("#exUntil").classList.toggle("invalid", !!(res.error && res.error.field === "until"));
      if (!res.ok) { if (res.status !== 401) say(CH.errorText(res), "error"); return; }
      var s = res.data && res.data.session;
      if (s) {
        sessions = (sessions || []).filter(function (x) { return x.id !== s.id; }).concat([s]);
        say(CH.t("ex_opened", { what: names(s.services), t: CH.fmtTime(s.until) }), "ok");
      }
      ticked = {};
      renderForm();
      renderList();
    });
  }

  function say(text, kind) {
    var m = CH.$("#exMsg");
    m.className = "msg " + (kind || "");
    m.textContent = text;
  }

  (S.parts = S.parts || []).push({
    start: function () { sessions = null; error = null; ticked = {}; load(); },
    render: function () { renderList(); renderForm(); },
    // (the services come with the socket's snapshot, which is followed by a tick)
    tick: function () { load(); if (!CH.$("#exServices").children.length) renderForm(); },
    event: function (msg) {
      if (msg.event === "hours.changed" && Array.isArray(msg.extended)) { sessions = msg.extended; renderList(); }
    }
  });
})();
