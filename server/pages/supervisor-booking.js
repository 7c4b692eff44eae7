/* Supervisor dashboard, the 便民服务 view (/supervisor#booking), three panels:
 * 今日预约 (this file), 延时服务 (supervisor-hours.js) and 帮代办人员
 * (supervisor-proxies.js). This file shows and hides the view by the address,
 * beside the views that supervisor-cases.js and supervisor-charts.js route (it
 * listens after them, so it has the last word), and tells the other two panels
 * when it opens (S.onBooking).
 *
 * 今日预约: GET /api/appointments/today?day= — per service, each slot with its
 * places, booked, arrived (已签到), no-shows (爽约) and cancelled, the service's
 * totals, and the day's; a day picker (today unless another day is picked).
 * Read when the view opens, every minute while it shows, and shortly after a
 * ticket.issued (a check-in at the kiosk issues a ticket) or an appointment
 * event. A server without the endpoint (404) gets a sentence, not an error.
 * Slots nobody booked (nor cancelled) are counted under their service rather
 * than listed, unless 显示空闲时段 is ticked: a hall open all day has dozens.
 *
 * Part of /supervisor: loaded after supervisor-integrity.js and before
 * supervisor.js, which starts it through S.parts. */
(function () {
  "use strict";
  var CH = window.CH;
  var S = CH.supervisor = CH.supervisor || {};

  var REFRESH_MS = 60000;
  var FIGURES = ["capacity", "booked", "arrived", "no_shows", "cancelled"];
  var day = null;                  // the day picked ("YYYY-MM-DD"); null: today, whatever the date
  var data = null, error = null, readAt = null;
  var seq = 0, timer = null;
  var opened = [];                 // what the view's other panels do when it opens
  var allSlots = false;            // list the slots nobody booked too

  S.onBooking = function (fn) { opened.push(fn); };
  S.bookingShown = showing;

  window.addEventListener("hashchange", route);
  CH.$("#bkDay").addEventListener("change", function () {
    var v = CH.$("#bkDay").value;
    day = v && v !== todayText() ? v : null;
    data = null;
    render();
    refresh();
  });
  CH.$("#bkToday").addEventListener("click", function () { day = null; data = null; render(); refresh(); });
  CH.$("#bkAll").addEventListener("change", function () { allSlots = CH.$("#bkAll").checked; render(); });

  /* ---------- the view ---------- */

  function showing() { return !CH.$("#bookingView").hidden; }

  function route() {
    var on = location.hash === "#booking";
    var was = showing();
    CH.$("#bookingView").hidden = !on;
    if (on) { CH.$("#dashMain").hidden = true; CH.$("#casesView").hidden = true; }
    // the other links are marked by supervisor-charts.js, which takes this view for the dashboard
    var link = CH.$("#viewNav [data-view='booking']");
    if (on) {
      document.querySelectorAll("#viewNav [aria-current]").forEach(function (a) { a.removeAttribute("aria-current"); });
      link.setAttribute("aria-current", "page");
    } else link.removeAttribute("aria-current");
    if (on && !was && S.session()) {
      render();
      refresh();
      // (today, and the times, on the hall's clock: known once the hall has been read)
      S.hallReady.then(function () { if (showing()) { render(); opened.forEach(function (fn) { fn(); }); } });
    }
  }

  /* ---------- reading ---------- */

  function todayText() {
    var p = CH.hallParts(CH.hallNow());
    return p.year + "-" + CH.pad2(p.month) + "-" + CH.pad2(p.day);
  }

  function refresh() {
    if (!S.session() || !showing()) return;
    var mine = ++seq;
    S.api("GET", "/api/appointments/today" + (day ? "?day=" + day : "")).then(function (res) {
      if (mine !== seq) return;
      if (res.ok && res.data && Array.isArray(res.data.services)) { data = res.data; error = null; readAt = new Date(); }
      else if (res.status !== 401) { data = null; error = res.status === 404 ? CH.t("bk_missing") : CH.errorText(res); }
      render();
    });
  }
  var refreshLater = CH.debounce(refresh, 1200);

  /* ---------- drawing ---------- */

  function render() {
    var shownDay = (data && data.day) || day || todayText();
    CH.$("#bkTitle").textContent = shownDay === todayText() ? CH.t("bk_title") : CH.t("bk_title_day", { d: shownDay });
    if (document.activeElement !== CH.$("#bkDay")) CH.$("#bkDay").value = shownDay;
    CH.$("#bkToday").hidden = shownDay === todayText();
    CH.$("#bkMsg").textContent = error || "";
    renderTotals(data && data.totals);
    var box = CH.clear(CH.$("#bkServices"));
    CH.$("#bkUpdated").textContent = data && readAt ? CH.t("bk_updated", { t: CH.clockText(readAt, true) }) : "";
    if (!data) { if (!error) box.appendChild(CH.el("p", { class: "empty", text: CH.t("loading") })); return; }
    if (!data.services.length) { box.appendChild(CH.el("p", { class: "empty", text: CH.t("bk_none") })); return; }
    var now = CH.hallNow().getTime();
    data.services.forEach(function (s) { box.appendChild(serviceBlock(s, now)); });
  }

  function renderTotals(t) {
    var box = CH.clear(CH.$("#bkTotals"));
    FIGURES.forEach(function (f) {
      box.appendChild(CH.el("div", { class: "kpi k-" + f, "data-total": f }, [
        CH.el("span", { class: "k-label", text: CH.t("bk_" + f) }),
        CH.el("b", { class: "k-val", text: t ? String(t[f] || 0) : "—" })
      ]));
    });
  }

  function serviceBlock(s, now) {
    var t = s.totals || {};
    var sum = [CH.t("bk_booked") + " " + (t.booked || 0) + "/" + (t.capacity || 0)];
    ["arrived", "no_shows", "cancelled"].forEach(function (f) { sum.push(CH.t("bk_" + f) + " " + (t[f] || 0)); });
    var head = CH.el("h3", { class: "bk-head" }, [
      CH.el("b", { class: "code", text: s.code }), " ", CH.el("span", { class: "name", text: s.name || "" }),
      CH.el("span", { class: "bk-sum", text: sum.join(" · ") })
    ]);
    var block = CH.el("div", { class: "bk-svc", "data-service": s.code }, [head]);
    var slots = s.slots || [];
    if (!slots.length) { block.appendChild(CH.el("p", { class: "empty", text: CH.t("bk_no_slots") })); return block; }
    var shown = allSlots ? slots : slots.filter(used);
    var quiet = slots.filter(function (sl) { return !used(sl); });
    var places = quiet.reduce(function (n, sl) { return n + (sl.capacity || 0); }, 0);
    var note = allSlots || !quiet.length ? null : CH.el("p", { class: "empty bk-quiet",
      text: CH.t(shown.length ? "bk_quiet" : "bk_quiet_all", { n: quiet.length, c: places }) });
    if (!shown.length) { block.appendChild(note); return block; }
    var rows = shown.map(function (sl) { return slotRow(sl, now); });
    block.appendChild(CH.el("table", { class: "grid bk-slots" }, [
      CH.el("thead", {}, [CH.el("tr", {}, [
        CH.el("th", { text: CH.t("bk_slot") }), CH.el("th", { class: "n", text: CH.t("bk_booked") }),
        CH.el("th", { class: "n", text: CH.t("bk_arrived") }), CH.el("th", { class: "n", text: CH.t("bk_no_shows") }),
        CH.el("th", { class: "n", text: CH.t("bk_cancelled") })
      ])]),
      CH.el("tbody", {}, rows)
    ]));
    if (note) block.appendChild(note);
    return block;
  }

  /* A slot someone booked (or booked and cancelled). */
  function used(sl) { return !!(sl.booked || sl.cancelled || sl.arrived || sl.no_shows); }

  /* A slot: its time, booked of its places (with a bar), arrived, no-shows, cancelled;
   * a slot that is over is greyed, the one under way marked. */
  function slotRow(sl, now) {
    var start = Date.parse(sl.start), end = Date.parse(sl.end);
    var cap = sl.capacity || 0, booked = sl.booked || 0;
    var cls = end <= now ? "past" : start <= now ? "now" : "";
    if (!booked && !sl.cancelled) cls += " quiet";
    var fill = CH.el("i");
    fill.style.width = (cap ? Math.min(100, Math.round(booked * 100 / cap)) : 0) + "%";
    var left = cap - booked;
    return CH.el("tr", { class: cls, "data-slot": sl.start }, [
      CH.el("td", { class: "time", text: CH.fmtTime(sl.start) + "–" + CH.fmtTime(sl.end) }),
      CH.el("td", { class: "n booked" }, [
        CH.el("span", { class: "fill" + (left <= 0 ? " full" : "") }, [fill]),
        CH.el("b", { text: String(booked) }), CH.el("span", { class: "cap", text: "/" + cap }),
        CH.el("span", { class: "left", text: left <= 0 ? CH.t("bk_full") : CH.t("bk_left", { n: left }) })
      ]),
      CH.el("td", { class: "n arrived" + (sl.arrived ? " some" : ""), text: String(sl.arrived || 0) }),
      CH.el("td", { class: "n no-shows" + (sl.no_shows ? " bad" : ""), text: String(sl.no_shows || 0) }),
      CH.el("td", { class: "n cancelled", text: String(sl.cancelled || 0) })
    ]);
  }

  (S.parts = S.parts || []).push({
    start: function () {
      data = null; error = null;
      CH.$("#bookingView").hidden = true;  // so that route() sees it open
      Promise.resolve().then(route);       // once every part has started
      clearInterval(timer);
      timer = setInterval(refresh, REFRESH_MS);
    },
    stop: function () { clearInterval(timer); timer = null; },
    render: function () { if (showing()) render(); },
    event: function (msg) {
      if (msg.event === "ticket.issued" || /^appointment\./.test(msg.event || "")) refreshLater();
    }
  });
})();
