/* The hall's hours at the kiosk (CONTRACT §12): the closed screen and 延时服务.
 *
 * Outside the hall's hours (`hall.open_now` of /api/services, re-read every
 * minute: a hint) the kiosk shows the closed screen: the hours, the next
 * opening, and the services a supervisor or their staff have extended (延时服务)
 * as tiles that can still be taken ("延时服务 至 19:00"). The server is the
 * truth: a `409 closed` for a ticket shows the closed screen with the hours and
 * the next opening it sends. The sessions come with /api/services
 * (`hall.extended`), live with the socket's `hours.changed`, and afresh from
 * /api/extended-hours each time the socket is up again; one whose `until` has
 * passed (on the hall's clock) is dropped by the kiosk itself. A booking's
 * check-in is not bound by the hours: 预约签到 is on the closed screen too.
 * Part of the kiosk: kiosk.js (loaded last) starts it. */
(function () {
  "use strict";
  var CH = window.CH;
  var K = CH.kiosk = CH.kiosk || {};

  var TIDY_MS = 30000;
  var sessions = [];  // 延时服务 in force: [{id, services: [codes], until: ISO, opened_by, opened_at}]

  K.hours = {
    init: function () {
      CH.$("#closedCheckin").addEventListener("click", function () { K.go("checkin"); });
      // a session ends at its `until` with no event: the kiosk looks for itself
      setInterval(function () { if (K.st.current === "scrClosed") render(); }, TIDY_MS);
    },
    /* the hall's own word for now (a hint: a 409 closed is the truth) */
    open: function () { var h = K.st.hall; return !h || h.open_now !== false; },
    /* the sessions in force, from /api/services, an hours.changed or /api/extended-hours */
    take: function (list) {
      if (!Array.isArray(list)) return;
      sessions = list;
      if (K.st.current === "scrClosed") render();  // the closed screen shows them at once
    },
    showClosed: function () { render(); K.show("scrClosed"); },
    /* a ticket refused with 409 closed: {hours, opens} */
    refused: function (err) {
      var h = K.st.hall = K.st.hall || {};
      h.open_now = false;
      if (err.hours) h.hours = err.hours;
      if (err.opens !== undefined) h.opens = err.opens;
      K.go("services");  // the closed screen, with what can still be taken
      K.hours.online();  // and the sessions afresh: one may just have ended
    },
    onevent: function (msg) { if (msg.event === "hours.changed") K.hours.take(msg.extended); },
    online: function () {
      CH.api("GET", "/api/extended-hours", null, K.token).then(function (res) {
        if (res.ok && res.data) K.hours.take(res.data.extended);
      });
    },
    rerender: function (c) { if (c === "scrClosed") render(); }
  };

  /* service code → the latest `until` of the sessions in force for it (as a Date) */
  function extended() {
    var now = CH.hallNow().getTime(), out = {};
    sessions.forEach(function (s) {
      var until = new Date(s.until);
      if (isNaN(until.getTime()) || until.getTime() <= now) return;
      (s.services || []).forEach(function (code) {
        if (!out[code] || out[code] < until) out[code] = until;
      });
    });
    return out;
  }
  K.hours.extended = extended;

  /* "08:30", "明天 08:30", "12月8日（星期一）08:30" for an instant, on the hall's calendar
   * (`today` says 今天 too, where the plain time would do otherwise). */
  K.whenText = function (when, today) {
    var d = when instanceof Date ? when : new Date(when);
    if (isNaN(d.getTime())) return "";
    var p = CH.hallParts(d), n = CH.hallParts(CH.hallNow());
    var days = Math.round((Date.UTC(p.year, p.month - 1, p.day) - Date.UTC(n.year, n.month - 1, n.day)) / 86400000);
    var time = CH.pad2(p.hour) + ":" + CH.pad2(p.minute);
    if (days === 0) return today ? CH.t("day_today", { t: time }) : time;
    if (days === 1) return CH.t("day_tomorrow", { t: time });
    var wd = CH.t("weekdays").split(",")[p.weekday];
    var mon = CH.t("months").split(",")[p.month - 1];
    return CH.t("day_date", { m: p.month, d: p.day, wd: wd, mon: mon, t: time });
  };

  function render() {
    var h = K.st.hall || {};
    CH.$("#closedHours").textContent = CH.t("closed_hours", { h: h.hours || "—" });
    var opens = h.opens ? K.whenText(h.opens, true) : "";
    CH.$("#closedOpens").textContent = opens ? CH.t("closed_opens", { when: opens }) : "";
    CH.$("#closedOpens").hidden = !opens;
    var ext = extended();
    var list = K.st.services.filter(function (s) { return ext[s.code]; });
    var box = CH.$("#extendedBox"), tiles = CH.clear(CH.$("#extendedTiles"));
    box.hidden = !list.length;
    CH.$("#scrClosed").classList.toggle("has-extended", list.length > 0);
    CH.$("#closedNote").hidden = list.length > 0;
    CH.$("#extendedList").textContent = list.map(function (s) {
      return CH.t("extended_line", { name: s.name, until: K.whenText(ext[s.code]) });
    }).join(CH.t("extended_sep"));
    list.forEach(function (s) {
      tiles.appendChild(K.serviceTile(s, CH.t("extended_until", { until: K.whenText(ext[s.code]) })));
    });
    // what 长者模式 says on this screen: closed, and what can still be taken
    CH.$("#closedSay").textContent = CH.t("closed_title") + (list.length ? (CH.lang === "en" ? ". " : "。") + CH.$("#extendedList").textContent : "");
  }
})();
