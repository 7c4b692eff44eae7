/* 预约 on a phone (/book): service → day → slot → ID number and phone → confirm
 * (GET /api/appointments/services, /slots; POST /api/appointments), then the
 * booking (book-view.js). /b/{id}?code= opens straight on a booking.
 *
 * Times are the hall's: they are read off the server's ISO strings (which carry
 * the hall's offset), never through the phone's own clock or zone. The ID number
 * and phone live only in the form while it is filled in: never in storage, and
 * the form is emptied once the booking is made. A booking's id and code travel
 * only in the address (/b/{id}?code=), which is what the citizen keeps. */
(function () {
  "use strict";
  var CH = window.CH;
  CH.page = "book";

  var STEPS = ["service", "day", "slot", "person", "confirm", "done"];
  var S = { services: [], rules: null, today: null, service: null, day: null, slots: [], slot: null, step: null };
  var view = CH.bookView;

  CH.applyStrings();
  CH.$("#langBtn").addEventListener("click", function () { CH.toggleLang(); });
  CH.onlang = function () { render(); view.render(); };

  document.querySelectorAll("[data-back]").forEach(function (b) {
    b.addEventListener("click", function () { show(b.getAttribute("data-back")); });
  });
  CH.$("#personForm").addEventListener("submit", function (e) { e.preventDefault(); checkPerson(); });
  CH.$("#confirmBtn").addEventListener("click", submit);

  CH.api("GET", "/api/services", null, null).then(function (res) {
    var hall = res.ok && res.data && res.data.hall;
    if (hall && hall.name) CH.$("#hallName").textContent = hall.name;
  });

  /* ---------- hall time, read off ISO strings ---------- */

  function parts(isoDay) {
    var p = String(isoDay).slice(0, 10).split("-").map(Number);
    return { y: p[0], m: p[1], d: p[2], wd: new Date(Date.UTC(p[0], p[1] - 1, p[2])).getUTCDay() };
  }
  /* "12月2日 星期三" / "Wed 2 Dec", with 今天 / 明天 in front when it is */
  CH.bookDay = function (isoDay, relative) {
    var p = parts(isoDay);
    var wd = CH.lang === "en" ? ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][p.wd] : "星期" + "日一二三四五六"[p.wd];
    var mon = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][p.m - 1];
    var text = CH.t("day_text", { m: p.m, d: p.d, wd: wd, mon: mon });
    if (relative && S.today) {
      var diff = Math.round((Date.UTC(p.y, p.m - 1, p.d) - Date.UTC(parts(S.today).y, parts(S.today).m - 1, parts(S.today).d)) / 86400000);
      var word = ["today", "tomorrow", "after_tomorrow"][diff];
      if (word) return CH.t(word) + " " + text;
    }
    return text;
  };
  /* "9:30" from "2026-12-02T09:30:00+08:00" */
  CH.bookClock = function (iso) {
    var s = String(iso || "");
    return s.length >= 16 ? Number(s.slice(11, 13)) + ":" + s.slice(14, 16) : "";
  };
  CH.bookSpan = function (start, end) { return CH.bookClock(start) + "–" + CH.bookClock(end); };

  /* The server's sentence for what only it can word (a slot gone, a limit hit, a wait);
   * the page's own words for the rest. */
  CH.bookError = function (res) {
    var code = res && res.error && res.error.code;
    if ((code === "conflict" || code === "rate_limited" || code === "invalid_input") && res.error.message) return res.error.message;
    return CH.errorText(res);
  };

  /* ---------- steps ---------- */

  function show(step) {
    S.step = step;
    STEPS.forEach(function (name) {
      CH.$("#step" + name.charAt(0).toUpperCase() + name.slice(1)).hidden = name !== step;
    });
    var at = STEPS.indexOf(step);
    CH.$("#progress").hidden = step === "done";
    document.querySelectorAll("#progress li").forEach(function (li, i) {
      li.className = i < at ? "past" : i === at ? "now" : "";
    });
    render();
    window.scrollTo(0, 0);
    var heading = CH.$("#step" + step.charAt(0).toUpperCase() + step.slice(1) + " h1");
    if (heading) heading.focus({ preventScroll: true });
  }

  function render() {
    if (S.step === "service") renderServices();
    else if (S.step === "day") renderDays();
    else if (S.step === "slot") renderSlots();
    else if (S.step === "person" || S.step === "confirm") renderChosen();
  }

  function loadServices() {
    return CH.api("GET", "/api/appointments/services", null, null).then(function (res) {
      if (!res.ok || !res.data) { CH.$("#serviceMsg").textContent = CH.bookError(res); show("service"); return; }
      S.services = res.data.services || [];
      S.rules = res.data.rules || null;
      S.today = res.data.now ? String(res.data.now).slice(0, 10) : null;
      if (S.service) S.service = find(S.service.code);
      if (S.step === null) show("service"); else render();
    });
  }

  function find(code) {
    for (var i = 0; i < S.services.length; i++) if (S.services[i].code === code) return S.services[i];
    return null;
  }

  function choice(attrs, big, small, disabled, onpick) {
    var b = CH.el("button", Object.assign({ type: "button", class: "choice" }, attrs), [
      CH.el("span", { class: "big", text: big }), small ? CH.el("span", { class: "small", text: small }) : null
    ]);
    b.disabled = !!disabled;
    b.addEventListener("click", onpick);
    return b;
  }

  function renderServices() {
    var list = CH.clear(CH.$("#serviceList"));
    if (!S.services.length) { list.appendChild(CH.el("p", { class: "note", text: CH.t("no_services") })); return; }
    S.services.forEach(function (s) {
      var open = s.days && s.days.length;
      list.appendChild(choice({ "data-service": s.code }, s.name,
        open ? CH.t("service_slots", { n: s.slot_minutes }) : CH.t("service_none"), !open,
        function () { S.service = s; S.day = null; S.slot = null; show("day"); }));
    });
  }

  function chosenLine(withDay, withSlot) {
    var bits = [S.service ? S.service.name : ""];
    if (withDay && S.day) bits.push(CH.bookDay(S.day, true));
    if (withSlot && S.slot) bits.push(CH.bookSpan(S.slot.start, S.slot.end));
    return bits.join(" · ");
  }

  function renderDays() {
    CH.$("#dayChosen").textContent = chosenLine(false, false);
    var list = CH.clear(CH.$("#dayList"));
    (S.service.days || []).forEach(function (d) {
      list.appendChild(choice({ "data-day": d.day }, CH.bookDay(d.day, true), d.left > 0 ? CH.t("left_n", { n: d.left }) : CH.t("full"),
        d.left <= 0, function () { S.day = d.day; S.slot = null; show("slot"); loadSlots(); }));
    });
  }

  function loadSlots() {
    var path = "/api/appointments/slots?service=" + encodeURIComponent(S.service.code) + "&day=" + encodeURIComponent(S.day);
    S.slots = null;
    renderSlots();
    return CH.api("GET", path, null, null).then(function (res) {
      S.slots = res.ok && res.data ? res.data.slots || [] : [];
      if (!res.ok) CH.$("#slotMsg").textContent = CH.bookError(res);
      renderSlots();
    });
  }

  function renderSlots() {
    CH.$("#slotChosen").textContent = chosenLine(true, false);
    var list = CH.clear(CH.$("#slotList"));
    if (S.slots === null) return;
    if (!S.slots.length) { list.appendChild(CH.el("p", { class: "note", text: CH.t("no_slots") })); return; }
    S.slots.forEach(function (s) {
      var b = choice({ "data-slot": s.start }, CH.bookSpan(s.start, s.end), s.left > 0 ? CH.t("left_n", { n: s.left }) : CH.t("full"),
        s.left <= 0, function () { S.slot = s; CH.$("#slotMsg").textContent = ""; show("person"); CH.$("#idNumber").focus(); });
      if (s.left <= 0) b.classList.add("full");
      list.appendChild(b);
    });
  }

  function renderChosen() {
    CH.$("#personChosen").textContent = chosenLine(true, true);
    if (S.step === "confirm") renderConfirm();
  }

  /* ---------- the person: checked here as the kiosk checks, proven by the server ---------- */

  function cleanId(s) { return String(s || "").normalize("NFKC").replace(/[\s-]+/g, "").toUpperCase(); }
  function cleanPhone(s) { return String(s || "").normalize("NFKC").replace(/[\s-]+/g, ""); }

  function checkPerson() {
    var id = cleanId(CH.$("#idNumber").value), phone = cleanPhone(CH.$("#phone").value);
    var verdict = CH.checkIdNumber(id);
    var msg = verdict === "ok" ? "" : CH.t("id_" + verdict);
    if (!msg && !/^1[3-9]\d{9}$/.test(phone)) msg = CH.t("phone_bad");
    CH.$("#personMsg").textContent = msg;
    if (msg) { (verdict === "ok" ? CH.$("#phone") : CH.$("#idNumber")).focus(); return; }
    show("confirm");
  }

  function maskId(id) { return id.slice(0, 4) + "**********" + id.slice(-4); }
  function maskPhone(p) { return p.slice(0, 3) + "****" + p.slice(-4); }

  CH.bookFacts = function (dl, rows) {
    CH.clear(dl);
    rows.forEach(function (r) {
      if (!r[1]) return;
      dl.appendChild(CH.el("div", { class: "fact" }, [CH.el("dt", { text: CH.t(r[0]) }), CH.el("dd", { text: r[1] })]));
    });
  };

  CH.bookMinus = function (iso, minutes) {
    // the hall's clock face, minutes earlier (or later, with a negative number)
    var total = Number(String(iso).slice(11, 13)) * 60 + Number(String(iso).slice(14, 16)) - minutes;
    total = ((total % 1440) + 1440) % 1440;
    return Math.floor(total / 60) + ":" + CH.pad2(total % 60);
  };

  function renderConfirm() {
    var id = cleanId(CH.$("#idNumber").value), phone = cleanPhone(CH.$("#phone").value);
    CH.bookFacts(CH.$("#confirmFacts"), [
      ["row_service", S.service.name], ["row_day", CH.bookDay(S.day, true)],
      ["row_slot", CH.bookSpan(S.slot.start, S.slot.end)], ["row_where", S.service.where],
      ["row_id", maskId(id)], ["row_phone", maskPhone(phone)]
    ]);
    var r = S.rules || { checkin_early_minutes: 30, checkin_late_minutes: 15, cancel_before_minutes: 60 };
    CH.$("#confirmCheckin").textContent = CH.t("confirm_checkin", {
      from: CH.bookMinus(S.slot.start, r.checkin_early_minutes), until: CH.bookMinus(S.slot.start, -r.checkin_late_minutes)
    });
    CH.$("#confirmCancel").textContent = CH.t("confirm_cancel", { until: CH.bookMinus(S.slot.start, r.cancel_before_minutes) });
    CH.$("#confirmMsg").textContent = "";
  }

  var sending = false;
  function submit() {
    if (sending) return;
    sending = true;
    var btn = CH.$("#confirmBtn");
    btn.disabled = true;
    btn.textContent = CH.t("sending");
    var body = { service: S.service.code, slot: S.slot.start, id_number: cleanId(CH.$("#idNumber").value), phone: cleanPhone(CH.$("#phone").value) };
    CH.api("POST", "/api/appointments", body, null).then(function (res) {
      sending = false;
      btn.disabled = false;
      btn.textContent = CH.t("confirm_btn");
      if (res.ok && res.data && res.data.appointment) {
        var a = res.data.appointment;
        CH.$("#idNumber").value = "";
        CH.$("#phone").value = "";
        body = null;
        // the booking's own address: what a reload, a bookmark or a screenshot keeps
        var lang = new URLSearchParams(window.location.search).get("lang");
        window.history.replaceState(null, "", "/b/" + encodeURIComponent(a.id) + "?code=" + encodeURIComponent(a.code) + (lang ? "&lang=" + lang : ""));
        view.open(a.id, a.code, show, true);
        return;
      }
      var field = res.error && res.error.field;
      if (res.error && res.error.reason === "slot_full") {
        // the slot filled up meanwhile: back to the slots, read again
        show("slot");
        CH.$("#slotMsg").textContent = CH.bookError(res);
        loadSlots();
        loadServices();
      } else if (field === "id_number" || field === "phone") {
        show("person");
        CH.$("#personMsg").textContent = CH.bookError(res);
      } else if (field === "slot") {
        show("slot");
        CH.$("#slotMsg").textContent = CH.bookError(res);
        loadSlots();
      } else {
        CH.$("#confirmMsg").textContent = CH.bookError(res);
      }
    });
  }

  /* ---------- start: a booking's own address, or the steps ---------- */

  var m = window.location.pathname.match(/^\/b\/([^/]+)\/?$/);
  if (m) view.open(decodeURIComponent(m[1]), new URLSearchParams(window.location.search).get("code"), show);
  else loadServices();
})();
