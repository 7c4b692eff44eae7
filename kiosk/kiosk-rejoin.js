/* The kiosk for a citizen who comes back (回队) or already holds a number.
 *
 * - 回队: a citizen whose ticket was suspended (挂起) to fetch a missing document
 *   re-joins the line in their old place: by scanning the receipt's QR code at
 *   the kiosk's USB barcode scanner (it types the phone URL …/t/{id}?key={key}
 *   and Enter, caught on any screen; a booking's QR, …?code=, is
 *   kiosk-checkin.js's), or by the ticket's number and then the ID
 *   or phone number it was taken with (the ID card when one was read).
 *   POST /api/tickets/rejoin; the result shows the number and who is ahead.
 * - A refused duplicate: the same ID already holds an unfinished ticket of the
 *   service. The kiosk says which ("您已取过号：A012，前面还有 3 人") and offers
 *   补打 (POST /api/tickets/reprint-by-id, the ID number proven again: it is kept
 *   in memory for this screen only) and, for a suspended ticket, 回队.
 * Part of the kiosk: kiosk.js (loaded last) starts it. */
(function () {
  "use strict";
  var CH = window.CH;
  var K = CH.kiosk = CH.kiosk || {};

  var QR_URL = /\/t\/([A-Za-z0-9_-]{8,64})\?key=([A-Za-z0-9_-]{8,128})/;
  var SCAN_GAP_MS = 1500;   // keys further apart than this are a person typing, not one scan
  var number = "";          // the ticket number being typed on #scrRejoin
  var dup = null;           // {ticket, service, id_number}: while #scrDuplicate is up, and only then
  var sending = false;

  K.routes = K.routes || {};
  K.routes.rejoin = function () { CH.$("#rjMsg").textContent = ""; renderNumber(); K.show("scrRejoin"); };

  K.rejoin = {
    init: function () {
      CH.$("#rejoinBtn").addEventListener("click", function () { number = ""; K.go("rejoin"); });
      CH.$("#rjNext").addEventListener("click", next);
      CH.$("#dupReprint").addEventListener("click", reprintHeld);
      CH.$("#dupRejoin").addEventListener("click", function () {
        if (dup) send({ number: dup.ticket.number, id_number: dup.id_number }, "scrDuplicate");
      });
      buildPad();
      document.addEventListener("keydown", onHardKey);
      window.addEventListener("keydown", onScan, true);  // before any screen's own keys
    },
    number: function () { return number; },
    submit: function (proof) { send({ number: number, id_number: proof.id_number, phone: proof.phone }, "scrRealName"); },
    duplicate: showDuplicate,
    onScreen: function (id) { if (id !== "scrDuplicate") dup = null; },
    rerender: function (c) {
      if (c === "scrRejoin") renderNumber();
      if (c === "scrDuplicate" && dup) renderDuplicate();
    }
  };

  /* ---------- the number ---------- */

  function buildPad() {
    var letters = CH.clear(CH.$("#rjLetters"));
    "ABCDEFGH".split("").forEach(function (l) {
      letters.appendChild(CH.el("button", { type: "button", class: "key letter", "data-rj": l, text: l, onclick: function () { typeNumber(l); } }));
    });
    var pad = CH.clear(CH.$("#rjPad"));
    "1234567890".split("").forEach(function (d) {
      pad.appendChild(CH.el("button", { type: "button", class: "key", "data-rj": d, text: d, onclick: function () { typeNumber(d); } }));
    });
    pad.appendChild(CH.el("button", { type: "button", class: "key fn", "data-rj": "back", "data-t": "key_back", text: CH.t("key_back"), onclick: function () { typeNumber("back"); } }));
    pad.appendChild(CH.el("button", { type: "button", class: "key fn", "data-rj": "clear", "data-t": "key_clear", text: CH.t("key_clear"), onclick: function () { typeNumber("clear"); } }));
  }

  function typeNumber(k) {
    if (k === "back") number = number.slice(0, -1);
    else if (k === "clear") number = "";
    else if (/^[A-Z]$/.test(k)) {
      if (/\d/.test(number)) return;  // the letter comes first
      number = number && K.service(number + k) ? number + k : k;  // a two-letter code, or another letter
    } else if (/^[A-Z]/.test(number) && number.replace(/^[A-Z]+/, "").length < 4) number += k;
    CH.$("#rjMsg").textContent = "";
    renderNumber();
  }

  function numberOk() { return /^[A-Z]{1,2}\d{1,4}$/.test(number); }

  function renderNumber() {
    var box = CH.clear(CH.$("#rjEntry"));
    box.appendChild(document.createTextNode(number));
    if (!number) box.appendChild(CH.el("span", { class: "ph", text: "A012" }));
    var letter = /^[A-Z]+/.exec(number);
    CH.$("#rjHint").textContent = CH.t(letter ? "rejoin_digits" : "rejoin_letter");
    // a service's code first (its letter), then the digits
    document.querySelectorAll("#rjLetters .key").forEach(function (b) {
      var known = K.service(b.getAttribute("data-rj"));
      b.hidden = !known && K.st.services.length > 0;
      b.disabled = /\d/.test(number);
    });
    document.querySelectorAll("#rjPad .key:not(.fn)").forEach(function (b) {
      b.disabled = !letter || number.length - letter[0].length >= 4;
    });
    CH.$("#rjNext").disabled = !numberOk();
  }

  function next() {
    if (!numberOk()) return;
    // an ID card already read is the proof; else ask for the ID or phone number
    if (K.st.person) send({ number: number, id_number: K.st.person.id_number }, "scrRejoin");
    else K.keypad.open("rejoin");
  }

  function onHardKey(e) {
    if (K.st.current !== "scrRejoin" || e.defaultPrevented) return;
    var k = e.key.length === 1 ? e.key.toUpperCase() : e.key;
    if (/^[A-Z0-9]$/.test(k)) typeNumber(k);
    else if (k === "Backspace") typeNumber("back");
    else if (k === "Enter") next();
  }

  /* ---------- the receipt's QR, typed by the barcode scanner on any screen ---------- */

  var scan = { text: "", at: 0, saved: null };
  function onScan(e) {
    if (e.key === "Enter") {
      var m = QR_URL.exec(scan.text), saved = scan.saved;
      scan.text = ""; scan.saved = null;
      if (!m) return;
      e.preventDefault();
      e.stopImmediatePropagation();
      restore(saved);  // what the scan typed into a field on its way is undone
      send({ ticket: m[1], key: m[2] }, "scrRejoin");
      return;
    }
    if (e.key.length !== 1) return;
    var now = Date.now();
    if (now - scan.at > SCAN_GAP_MS || !scan.saved) { scan.text = ""; scan.saved = { entry: K.st.entry.value, number: number }; }
    scan.at = now;
    scan.text = (scan.text + e.key).slice(-400);
  }

  function restore(saved) {
    if (!saved) return;
    K.st.entry.value = saved.entry;
    number = saved.number;
    if (K.st.current === "scrRealName") K.keypad.render();
    if (K.st.current === "scrRejoin") renderNumber();
  }

  /* ---------- sending, and the result ---------- */

  /* POST /api/tickets/rejoin; `from` is the screen that shows a refusal */
  function send(proof, from) {
    if (sending) return;
    sending = true;
    var body = {};
    Object.keys(proof).forEach(function (k) { if (proof[k]) body[k] = proof[k]; });
    CH.api("POST", "/api/tickets/rejoin", body, K.token).then(function (res) {
      sending = false;
      if (res.ok && res.data && res.data.ticket) { showResult(res.data.ticket, res.data.came_back ? "rejoined_comeback" : "rejoined_in_place", true); return; }
      if (res.status === 401) { CH.showBlockerKeys("bad_token_title", "bad_token_detail"); return; }
      if (res.status === 409 && res.error && res.error.ticket) { showResult(res.error.ticket, null, false, CH.errorText(res)); return; }
      var text = CH.t("rejoin_failed", { msg: CH.errorText(res) });
      if (from === "scrDuplicate") { CH.$("#dupMsg").textContent = text; return; }
      var aboutNumber = res.error && res.error.field === "number";
      if (from === "scrRealName" && !aboutNumber) { CH.$("#rnMsg").textContent = text; return; }
      // a scan (from any screen), an ID card's proof, or the number itself: say it on the 回队 screen
      if (K.st.current !== "scrRejoin") { number = body.number || ""; renderNumber(); K.show("scrRejoin"); }
      CH.$("#rjMsg").textContent = text;
    });
  }

  function showResult(t, noteKey, done, title) {
    CH.$("#rdTitle").textContent = title || CH.t("rejoined_title");
    CH.$("#scrRejoined").setAttribute("data-done", done ? "yes" : "no");
    CH.$("#rdNumber").textContent = t.number;
    CH.$("#rdService").textContent = t.service_name || t.service || "";
    var waiting = t.status === "waiting";
    if (waiting) K.aheadLine(CH.$("#rdAhead"), t.ahead); else CH.$("#rdAhead").textContent = "";
    CH.$("#rdWait").textContent = waiting ? CH.t("ticket_wait", { w: CH.fmtTicketWait(t) }) :
      t.window ? CH.t("go_to_window", { w: t.window }) : "";
    CH.$("#rdNote").textContent = noteKey ? CH.t(noteKey) : "";
    K.renderGuide(CH.$("#rdGuide"), K.service(t.service));
    K.show("scrRejoined");
    K.startCountdown();
  }

  /* ---------- a refused duplicate ---------- */

  function showDuplicate(ticket, body) {
    K.show("scrDuplicate");   // (leaving any other screen forgets a previous one)
    dup = { ticket: ticket, service: body.service, id_number: body.id_number };
    CH.$("#dupMsg").textContent = "";
    CH.$("#dupPrint").textContent = "";
    CH.$("#dupPrint").className = "print none";
    CH.$("#dupReprint").disabled = false;
    renderDuplicate();
  }

  function renderDuplicate() {
    var t = dup.ticket;
    var key = t.status === "waiting" ? "dup_waiting" : t.status === "suspended" ? "dup_suspended" :
      t.window ? "dup_called" : "dup_held";
    CH.$("#dupText").textContent = CH.t(key, { number: t.number, n: t.ahead, w: t.window });
    CH.$("#dupNumber").textContent = t.number;
    CH.$("#dupService").textContent = (t.service_name || t.service || "") + (t.category && t.category !== "normal" ? " · " + CH.categoryName(t.category) : "");
    CH.$("#dupWait").textContent = t.status === "waiting" ? CH.t("ticket_wait", { w: CH.fmtTicketWait(t) }) : "";
    var missing = CH.clear(CH.$("#dupMissing"));
    if (t.status === "suspended" && t.missing && t.missing.length) {
      missing.appendChild(CH.el("h2", { text: CH.t("dup_missing") }));
      missing.appendChild(CH.el("ul", {}, t.missing.map(function (m) { return CH.el("li", { text: m }); })));
    }
    missing.hidden = !missing.firstChild;
    CH.$("#dupReprint").hidden = !t.reprint;
    CH.$("#dupHint").hidden = !t.reprint;
    if (t.status !== "suspended") K.renderGuide(CH.$("#dupGuide"), K.service(t.service)); else CH.$("#dupGuide").hidden = true;
    CH.$("#dupRejoin").hidden = t.status !== "suspended";
    CH.$("#dupNoReprint").hidden = !!t.reprint;
  }

  function reprintHeld() {
    if (!dup) return;
    var mine = dup;
    CH.$("#dupReprint").disabled = true;
    CH.$("#dupMsg").textContent = "";
    CH.$("#dupPrint").className = "print queued";
    CH.$("#dupPrint").textContent = CH.t("print_queued");
    CH.api("POST", "/api/tickets/reprint-by-id", { service: mine.service, id_number: mine.id_number }, K.token).then(function (res) {
      if (dup !== mine) return;
      if (res.ok && res.data) {
        var p = res.data.print || { status: "queued" };
        CH.$("#dupPrint").className = "print " + (p.status || "none");
        CH.$("#dupPrint").textContent = p.status === "printed" ? CH.t("reprint_done") : K.printText(p);
        CH.$("#dupReprint").disabled = p.status !== "failed";
        return;
      }
      CH.$("#dupPrint").className = "print none";
      CH.$("#dupPrint").textContent = "";
      CH.$("#dupMsg").textContent = CH.t("reprint_failed", { msg: CH.errorText(res) });
      CH.$("#dupReprint").disabled = false;
    });
  }
})();
