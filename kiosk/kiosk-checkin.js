/* 预约签到 at the kiosk (CONTRACT §12): a citizen with a booking checks it in and
 * gets a ticket of category `appointment` (called before walk-ins).
 *
 * - The check-in screen: "请将预约二维码对准扫描口，或输入预约码，或将身份证放在
 *   感应区". The 8-character code on a keypad of the code's own alphabet (no 0/O,
 *   1/I), shown 4-4; POST /api/tickets {"appointment": code}.
 * - The booking's QR at the USB barcode scanner, on any screen: a scanner types
 *   the QR's text (the booking page's address, …?code=K7Q2M9XD) as keystrokes a
 *   few milliseconds apart, then Enter. Keys that come within SCAN_GAP_MS of each
 *   other and end with Enter are one scan; slower typing is a person. What the
 *   scan typed into a field on its way is undone. (A receipt's QR, …/t/{id}?key=,
 *   is 回队's: kiosk-rejoin.js.)
 * - The ID card: read on this screen, it is the citizen's real name, and the
 *   service they then tap checks their booking of today in (the server matches
 *   the ID number).
 * - Too early or too late (409 with `appointment`: slot, checkin_from,
 *   checkin_until, arrival) is said plainly ("您预约的是 10:00，请于 09:30 起签到")
 *   with 取普通号: the same order again with walk_in (for a code, the booking's
 *   service is chosen again: the kiosk does not know whose booking it is). An
 *   unknown code, or one already used, is said with 重新输入.
 * Part of the kiosk: kiosk.js (loaded last) starts it. */
(function () {
  "use strict";
  var CH = window.CH;
  var K = CH.kiosk = CH.kiosk || {};

  var ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";  // the server's (domain/checkin.py)
  var CODE_LEN = 8;
  var SCAN_GAP_MS = 50;   // a scanner types faster than this; a person never does
  var BOOKING_QR = /[?&]code=([A-Za-z0-9-]{1,40})/;
  var code = "";          // the code being typed
  var refusal = null;     // {res, body}: while #scrCheckinNo is up, and only then
  var viaCard = false;    // the ID card was read on the check-in screen: "choose your booked service"

  K.routes = K.routes || {};
  K.routes.checkin = function () { code = ""; CH.$("#ciMsg").textContent = ""; render(); K.show("scrCheckin"); };
  K.refusedOn = K.refusedOn || {};
  K.refusedOn.scrCheckin = function (text, res, body) { showRefusal(res, body); };
  K.refusedOn.scrCheckinNo = function (text) { K.show("scrCheckinNo"); CH.$("#ciNoMsg").textContent = text; };

  K.checkin = {
    init: function () {
      CH.$("#checkinBtn").addEventListener("click", function () { K.go("checkin"); });
      CH.$("#ciConfirm").addEventListener("click", submit);
      CH.$("#ciRetype").addEventListener("click", function () { K.go("checkin"); });
      CH.$("#ciWalkIn").addEventListener("click", walkIn);
      document.querySelectorAll("[data-ci]").forEach(function (b) {
        b.addEventListener("click", function () { type(b.getAttribute("data-ci")); });
      });
      buildPad();
      document.addEventListener("keydown", onHardKey);
      window.addEventListener("keydown", onScan, true);  // before any screen's own keys
    },
    refused: showRefusal,
    /* the ID card was read on the check-in screen (kiosk-elderly.js goes on to the services) */
    viaCard: function () { viaCard = true; },
    onScreen: function (id) {
      if (id !== "scrCheckinNo" && id !== "scrIssuing") refusal = null;
      if (id === "scrServices") personNote();
    },
    rerender: function (c) {
      if (c === "scrCheckin") render();
      if (c === "scrCheckinNo" && refusal) renderRefusal();
      if (c === "scrServices") personNote();
    },
    reset: function () { code = ""; refusal = null; viaCard = false; }
  };

  /* ---------- the code on the keypad ---------- */

  function buildPad() {
    var pad = CH.clear(CH.$("#ciPad"));
    ALPHABET.split("").forEach(function (k) {
      pad.appendChild(CH.el("button", { type: "button", class: "key" + (/\d/.test(k) ? " digit" : ""), "data-ci": k, text: k, onclick: function () { type(k); } }));
    });
  }

  function type(k) {
    if (k === "back") code = code.slice(0, -1);
    else if (k === "clear") code = "";
    else if (code.length < CODE_LEN && ALPHABET.indexOf(k) >= 0) code += k;
    CH.$("#ciMsg").textContent = "";
    render();
  }

  function render() {
    var box = CH.clear(CH.$("#ciEntry"));
    [code.slice(0, 4), code.slice(4)].forEach(function (part) {
      var span = CH.el("span", { class: "grp" }, [part]);
      if (part.length < 4) span.appendChild(CH.el("span", { class: "ph", text: "·".repeat(4 - part.length) }));
      box.appendChild(span);
    });
    CH.$("#ciHint").textContent = code.length === CODE_LEN ? CH.t("checkin_code_full") : CH.t("checkin_code_n", { n: code.length });
    CH.$("#ciConfirm").disabled = code.length !== CODE_LEN;
    document.querySelectorAll("#ciPad .key").forEach(function (b) { b.disabled = code.length >= CODE_LEN; });
  }

  function submit() { if (code.length === CODE_LEN) K.order({ appointment: code }, "scrCheckin"); }

  function onHardKey(e) {
    if (K.st.current !== "scrCheckin" || e.defaultPrevented) return;
    var k = e.key.length === 1 ? e.key.toUpperCase() : e.key;
    if (ALPHABET.indexOf(k) >= 0 && k.length === 1) type(k);
    else if (k === "Backspace") type("back");
    else if (k === "Enter") submit();
  }

  /* ---------- the booking's QR, typed by the barcode scanner on any screen ---------- */

  /* The booking code a scan carries: the address's ?code=, or a bare code of 8. */
  function scannedCode(text) {
    var m = BOOKING_QR.exec(text);
    var c = (m ? m[1] : text).toUpperCase().replace(/[\s-]/g, "");
    if (m) return c;
    return c.length === CODE_LEN && c.split("").every(function (ch) { return ALPHABET.indexOf(ch) >= 0; }) ? c : null;
  }

  var scan = { text: "", at: 0, saved: null };
  function onScan(e) {
    var t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;  // typed into a field
    var now = Date.now(), fast = now - scan.at <= SCAN_GAP_MS;
    if (e.key === "Enter") {
      var text = fast ? scan.text : "", saved = scan.saved;
      scan = { text: "", at: 0, saved: null };
      if (!text || !scannedCode(text)) return;
      e.preventDefault();
      e.stopImmediatePropagation();
      restore(saved);
      if (K.st.current !== "scrIssuing") K.order({ appointment: text.trim() }, "scrCheckin");
      return;
    }
    if (e.key.length !== 1) return;  // Shift and the like: no character
    if (!fast) scan = { text: "", at: 0, saved: snapshot() };
    scan.at = now;
    scan.text = (scan.text + e.key).slice(-400);
  }

  /* the fields a scan's keys may type into on their way (before it is known to be a scan) */
  function snapshot() { return { entry: K.st.entry.value, code: code, proxy: K.proxy ? K.proxy.fields() : null }; }

  function restore(saved) {
    if (!saved) return;
    K.st.entry.value = saved.entry;
    code = saved.code;
    if (K.proxy && saved.proxy) K.proxy.fields(saved.proxy);
    if (K.st.current === "scrRealName") K.keypad.render();
    if (K.st.current === "scrCheckin") render();
  }

  /* ---------- too early, too late, not found ---------- */

  /* a refused check-in: `body` is the order again (null when it cannot be sent as it was) */
  function showRefusal(res, body) {
    refusal = { res: res, body: body || null };
    CH.$("#ciNoMsg").textContent = "";
    renderRefusal();
    K.show("scrCheckinNo");
  }

  function renderRefusal() {
    var err = refusal.res.error || {}, a = err.appointment, sent = refusal.body || {};
    var kind = a ? (a.arrival === "late" ? "late" : "early") : err.code === "not_found" ? "unknown" : "refused";
    CH.$("#scrCheckinNo").setAttribute("data-kind", kind);
    CH.$("#ciNoMark").textContent = kind === "unknown" ? "?" : kind === "refused" ? "!" : "";  // a clock, drawn
    CH.$("#ciNoTitle").textContent = CH.t("checkin_" + kind + "_title");
    var text;
    if (a) {
      text = CH.t("checkin_" + kind, {
        slot: K.whenText(a.slot), from: K.whenText(a.checkin_from), until: K.whenText(a.checkin_until)
      });
    } else if (kind === "unknown") {
      text = CH.t("checkin_unknown", { code: spaced(scannedCode(String(sent.appointment || "")) || code) });
    } else {
      text = CH.errorText(refusal.res);  // already checked in, cancelled, another service's: the server's words
    }
    // a clause a line where it must break: "您预约的是 14:00，" | "请于 13:30 起签到"
    var box = CH.clear(CH.$("#ciNoText"));
    text.split(/(?<=，|: )/).forEach(function (part) { box.appendChild(CH.el("span", { class: "clause", text: part })); });
    CH.$("#ciNoHint").textContent = a ? CH.t("checkin_walk_in_hint") : "";
    CH.$("#ciWalkIn").hidden = !a;
    CH.$("#ciRetype").hidden = !!a && !sent.appointment;
    CH.$("#ciRetype").classList.toggle("primary", !a);  // the one way on when there is no ordinary number to offer
  }

  function spaced(c) { return c.length > 4 ? c.slice(0, 4) + " " + c.slice(4) : c; }

  /* 取普通号: an ordinary ticket now. The order again with walk_in where it named the
   * service and the ID number (the card's path); for a code, the service is chosen
   * again (the booking's, where the server says which) and the visit takes walk-ins. */
  function walkIn() {
    if (!refusal) return;
    var sent = refusal.body || {}, a = (refusal.res.error || {}).appointment || {};
    K.st.walkIn = true;
    if (sent.service && !sent.appointment) {
      var again = {};
      Object.keys(sent).forEach(function (k) { again[k] = sent[k]; });
      again.walk_in = true;
      K.order(again, "scrCheckinNo");
      return;
    }
    var svc = K.service(a.service && a.service.code ? a.service.code : a.service);
    if (svc) { K.st.choice = { service: svc }; K.go("category"); } else K.go("services");
  }

  /* the card read on the check-in screen: its services screen asks for the booked one */
  function personNote() {
    if (viaCard && K.st.person) CH.$("#personNote").textContent = CH.t("checkin_card_note");
  }
})();
