/* The ID card reader: the kiosk's end of the card bridge (`clearhall kiosk-bridge`,
 * kiosk/bridge/, docs/card-reader.md), a small program on the kiosk PC itself.
 *
 * - Only a kiosk with a reader looks for it: `/kiosk?bridge` in the kiosk's
 *   address (the bridge's default port, 47810), or `?bridge=PORT`. Without it
 *   (or with `?bridge=0`) the page never knocks on the loopback address: a
 *   browser may ask whether a page may reach "apps on this device", and a kiosk
 *   without a reader has no business making it ask.
 * - A card placed on the reader arrives as {"type": "card", name, id_number}
 *   and goes to CH.kiosk.cardRead (kiosk-elderly.js), as if typed: the kiosk
 *   keeps it in memory for this citizen only (K.st.person, forgotten on K.reset)
 *   and sends the number to the server with the ticket. Nothing of a card is
 *   written to localStorage or sessionStorage, or kept here.
 * - {"type": "unreadable"} (a card that gave no valid number) says "未能读取"
 *   on the start or card screen; elsewhere the citizen is mid-way with a card
 *   already read, and it is ignored.
 * - Without a bridge (none installed, or not started yet) it tries again
 *   quietly every few seconds; the kiosk works without it (the number can be
 *   typed).
 * Part of the kiosk: it starts once the page is loaded (kiosk.js has its token). */
(function () {
  "use strict";
  var CH = window.CH;
  var K = CH.kiosk = CH.kiosk || {};

  var DEFAULT_PORT = 47810, VERSION = 1;
  var RETRY_FIRST_MS = 2000, RETRY_MOST_MS = 10000;
  var port = bridgePort(), state = port ? "connecting" : "off", reader = null, retryMs = RETRY_FIRST_MS;

  /* What the page knows of the bridge: for the tests and a curious engineer's console. */
  K.bridge = {
    state: function () { return state; },     // off, connecting, open
    reader: function () { return reader; }    // the bridge's last word on its reader: {state, message}
  };

  /* ?bridge or ?bridge=on: the default port; ?bridge=PORT: that port; none, 0 or off: no reader. */
  function bridgePort() {
    var given = new URLSearchParams(window.location.search).get("bridge");
    if (given === null) return 0;
    if (given === "" || given === "on") return DEFAULT_PORT;
    var n = /^\d{1,5}$/.test(given) ? +given : 0;
    return n > 0 && n < 65536 ? n : 0;
  }

  function connect() {
    var ws;
    try {
      ws = new WebSocket("ws://127.0.0.1:" + port + "/");
    } catch (e) {
      retry();
      return;
    }
    ws.onopen = function () { state = "open"; retryMs = RETRY_FIRST_MS; };
    ws.onmessage = function (ev) { take(ws, ev.data); };
    ws.onclose = function () {
      reader = null;
      if (state !== "off") { state = "connecting"; retry(); }
    };
  }

  function retry() {
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, RETRY_MOST_MS);
  }

  function take(ws, data) {
    var msg = null;
    try { msg = JSON.parse(data); } catch (e) { return; }
    if (!msg || typeof msg !== "object") return;
    if (msg.type === "hello" && msg.version !== VERSION) {
      state = "off";  // a bridge that speaks another language: better no card than a wrong one
      ws.close();
    } else if (msg.type === "reader") {
      reader = { state: String(msg.state), message: String(msg.message || "") };
    } else if (msg.type === "card" && K.cardRead) {
      K.cardRead({ name: msg.name, id_number: msg.id_number });
    } else if (msg.type === "unreadable" && K.cardRead && K.st &&
               (K.st.current === "scrServices" || K.st.current === "scrCard")) {
      K.cardRead({ name: "", id_number: "" });  // says 未能读取 on the card screen
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (port && K.token) connect();
    else state = "off";
  });
})();
