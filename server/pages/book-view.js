/* One booking on the booking page (/b/{id}?code=, and right after booking):
 * its status, the code large (grouped 4-4) and its QR code (an <img> of
 * GET /api/appointments/{id}/qr?code=), the day and slot, when to check in,
 * where and what to bring, and 取消预约 behind an in-page confirmation
 * (DELETE /api/appointments/{id}?code=). Loaded before book.js, which opens it;
 * it uses book.js's helpers (CH.bookDay, CH.bookSpan, CH.bookFacts, …) only
 * once the page runs. */
(function () {
  "use strict";
  var CH = window.CH;
  var V = { id: null, code: null, booking: null, fresh: false, show: null };

  function grouped(code) {
    var c = String(code || "").replace(/[^0-9A-Za-z]/g, "").toUpperCase();
    return c.length === 8 ? c.slice(0, 4) + "-" + c.slice(4) : c;
  }
  function path(suffix) {
    return "/api/appointments/" + encodeURIComponent(V.id) + (suffix || "") + "?code=" + encodeURIComponent(V.code);
  }

  V.open = function (id, code, show, fresh) {
    V.id = id;
    V.code = code;
    V.show = show;
    V.fresh = !!fresh;
    if (!code) { CH.showBlockerKeys("no_code_title", "no_code_detail"); return; }
    load();
  };

  function load() {
    return CH.api("GET", path(), null, null).then(function (res) {
      if (res.status === 404) { CH.showBlockerKeys("not_found_title", "not_found_detail"); return; }
      if (!res.ok || !res.data) { V.show("done"); CH.$("#doneMsg").textContent = CH.bookError(res); return; }
      V.booking = res.data.appointment;
      V.show("done");
      V.render();
    });
  }

  V.render = function () {
    var b = V.booking;
    if (!b) return;
    var state = b.status === "booked" && b.missed ? "missed" : b.status;
    var status = CH.$("#doneStatus");
    status.textContent = state === "booked" && V.fresh ? CH.t("done_booked") : CH.t("status_" + state);
    status.className = "status " + state;
    var live = state === "booked";
    CH.$("#codeBox").hidden = !live;
    CH.$("#code").textContent = grouped(V.code);
    var qr = CH.$("#qr");
    qr.alt = CH.t("qr_alt");
    if (live && qr.getAttribute("src") !== path("/qr")) qr.src = path("/qr");
    var note = { checked_in: "checked_in_note", cancelled: "cancelled_note", missed: "missed_note" }[state];
    CH.$("#doneNote").hidden = !note;
    CH.$("#doneNote").textContent = note ? CH.t(note) : "";
    CH.bookFacts(CH.$("#doneFacts"), [
      ["row_service", b.service_name], ["row_day", CH.bookDay(b.day, true)], ["row_slot", CH.bookSpan(b.slot, b.slot_end)],
      ["row_where", b.where], ["row_ticket", b.ticket], ["row_id", b.id_masked], ["row_phone", b.phone_masked]
    ]);
    CH.$("#doneCheckin").hidden = !live;
    CH.$("#doneCheckin").textContent = CH.t("confirm_checkin", { from: CH.bookClock(b.checkin_from), until: CH.bookClock(b.checkin_until) });
    var docs = Array.isArray(b.materials) ? b.materials : [];
    CH.$("#materials").hidden = !docs.length || !live;
    var list = CH.clear(CH.$("#materialList"));
    docs.forEach(function (x) { list.appendChild(CH.el("li", { text: String(x) })); });
    CH.$("#cancelBox").hidden = b.status !== "booked" || b.missed;
    CH.$("#cancelBtn").hidden = !b.cancellable;
    if (!b.cancellable) CH.$("#cancelAsk").hidden = true;
    CH.$("#cancelNote").textContent = b.cancellable ? CH.t("cancel_until", { until: CH.bookDay(b.cancel_until) + " " + CH.bookClock(b.cancel_until) })
      : CH.t("cancel_over", { n: minutesBefore(b) });
  };

  function minutesBefore(b) {
    var ms = Date.parse(b.slot) - Date.parse(b.cancel_until);
    return isNaN(ms) ? "" : Math.round(ms / 60000);
  }

  CH.$("#cancelBtn").addEventListener("click", function () {
    CH.$("#cancelAsk").hidden = false;
    CH.$("#cancelBtn").hidden = true;
    CH.$("#cancelYes").focus();
  });
  CH.$("#cancelNo").addEventListener("click", function () {
    CH.$("#cancelAsk").hidden = true;
    CH.$("#cancelBtn").hidden = false;
  });
  CH.$("#cancelYes").addEventListener("click", function () {
    var yes = CH.$("#cancelYes");
    yes.disabled = true;
    CH.api("DELETE", path(), null, null).then(function (res) {
      yes.disabled = false;
      CH.$("#cancelAsk").hidden = true;
      if (res.ok && res.data && res.data.appointment) {
        V.booking = res.data.appointment;
        V.fresh = false;
        CH.$("#doneMsg").textContent = "";
        V.render();
        CH.$("#doneStatus").textContent = CH.t("cancelled_now");
        return;
      }
      CH.$("#doneMsg").textContent = CH.bookError(res);
      load();
    });
  });

  CH.bookView = V;
})();
