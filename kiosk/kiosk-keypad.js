/* The kiosk's keypad screen (#scrRealName) for an 18-character ID number (the X key
 * only for the last character) or an 11-digit phone number, checked as it is typed.
 * One screen, three purposes (K.st.entry.purpose):
 *   "issue"  — the real name a service needs: 确认取号 takes the ticket;
 *   "rejoin" — 回队: the ID or phone number the ticket was taken with;
 *   "card"   — the ID card path without a card reader: the number typed instead.
 * A USB keyboard, or an ID-card reader that types, works too. Part of the kiosk:
 * kiosk.js (loaded last) starts it. */
(function () {
  "use strict";
  var CH = window.CH;
  var K = CH.kiosk = CH.kiosk || {};

  var TITLES = {
    issue: ["realname_title", "realname_sub", "confirm"],
    rejoin: ["rejoin_proof_title", "rejoin_proof_sub", "rejoin_confirm"],
    card: ["card_type_title", "card_type_sub", "card_confirm"]
  };

  K.keypad = {
    init: function () {
      CH.$("#tabId").addEventListener("click", function () { setMode("id"); });
      CH.$("#tabPhone").addEventListener("click", function () { setMode("phone"); });
      CH.$("#confirmBtn").addEventListener("click", confirm);
      CH.$("#rnBack").addEventListener("click", function () {
        var purpose = K.st.entry.purpose;
        K.go(purpose === "rejoin" ? "rejoin" : purpose === "card" ? "card" : "category");
      });
      CH.$("#rnSuggestBtn").addEventListener("click", function () {
        K.st.choice.category = "elderly";
        K.issue({ id_number: K.st.entry.value });
      });
      document.addEventListener("keydown", onHardKey);
      build();
    },
    render: render,
    /* the keypad for `purpose`, empty, on the ID number */
    open: function (purpose) { K.st.entry = { mode: "id", value: "", purpose: purpose }; K.go("realname"); },
    /* an ID number from the card reader into the field (when this screen asks for one) */
    fill: function (idNumber) {
      var e = K.st.entry;
      e.mode = "id";
      e.value = String(idNumber || "").toUpperCase().slice(0, 18);
      render();
    }
  };

  function build() {
    var pad = CH.clear(CH.$("#keypad"));
    ["1", "2", "3", "4", "5", "6", "7", "8", "9", "X", "0"].forEach(function (k) {
      pad.appendChild(CH.el("button", { type: "button", class: "key", "data-key": k, text: k, onclick: function () { type(k); } }));
    });
    pad.appendChild(CH.el("button", { type: "button", class: "key fn", "data-key": "back", "data-t": "key_back", text: CH.t("key_back"), onclick: function () { type("back"); } }));
    pad.appendChild(CH.el("button", { type: "button", class: "key fn wide", "data-key": "clear", "data-t": "key_clear", text: CH.t("key_clear"), onclick: function () { type("clear"); } }));
  }

  function setMode(mode) { K.st.entry.mode = mode; K.st.entry.value = ""; CH.$("#rnMsg").textContent = ""; render(); }

  function maxLen() { return K.st.entry.mode === "id" ? 18 : 11; }

  function type(k) {
    var e = K.st.entry, v = e.value;
    if (k === "back") v = v.slice(0, -1);
    else if (k === "clear") v = "";
    else if (v.length < maxLen()) {
      if (k === "X" && (e.mode !== "id" || v.length !== 17)) return;
      v += k;
    }
    e.value = v;
    CH.$("#rnMsg").textContent = "";
    render();
  }

  function onHardKey(e) {
    if (K.st.current !== "scrRealName" || e.defaultPrevented) return;
    if (/^[0-9]$/.test(e.key)) type(e.key);
    else if (e.key === "x" || e.key === "X") type("X");
    else if (e.key === "Backspace") type("back");
    else if (e.key === "Enter" && !CH.$("#confirmBtn").disabled) confirm();
  }

  function state() {
    var e = K.st.entry, v = e.value;
    if (e.mode === "id") {
      var st = CH.checkIdNumber(v);
      if (st === "ok") return { ok: true, cls: "ok", text: CH.t("id_ok") };
      if (st === "incomplete") return { ok: false, cls: "info", text: CH.t("id_progress", { n: v.length }) };
      return { ok: false, cls: "bad", text: CH.t("id_" + st) };
    }
    if (v.length && v[0] !== "1") return { ok: false, cls: "bad", text: CH.t("phone_bad") };
    if (v.length === 11) return { ok: true, cls: "ok", text: CH.t("phone_ok") };
    return { ok: false, cls: "info", text: CH.t("phone_progress", { n: v.length }) };
  }

  function render() {
    var e = K.st.entry, words = TITLES[e.purpose] || TITLES.issue, svc = K.st.choice.service;
    CH.$("#rnService").textContent = e.purpose === "rejoin" ? (K.rejoin ? K.rejoin.number() : "") :
      e.purpose === "issue" && svc ? svc.code + " " + svc.name : "";
    CH.$("#rnService").hidden = !CH.$("#rnService").textContent;
    CH.$("#rnTitle").textContent = CH.t(words[0]);
    CH.$("#rnSub").textContent = CH.t(words[1]);
    CH.$("#confirmBtn").textContent = CH.t(words[2]);
    CH.$("#rnTabs").hidden = e.purpose === "card";
    if (e.purpose === "card") e.mode = "id";
    CH.$("#tabId").setAttribute("aria-selected", e.mode === "id" ? "true" : "false");
    CH.$("#tabPhone").setAttribute("aria-selected", e.mode === "phone" ? "true" : "false");
    var box = CH.clear(CH.$("#entry"));
    var groups = e.mode === "id" ? [6, 8, 4] : [3, 4, 4];
    var v = e.value, at = 0;
    groups.forEach(function (len) {
      var part = v.slice(at, at + len);
      var span = CH.el("span", { class: "grp" }, [part]);
      if (part.length < len) span.appendChild(CH.el("span", { class: "ph", text: "·".repeat(len - part.length) }));
      box.appendChild(span);
      at += len;
    });
    var s = state();
    var fb = CH.$("#feedback");
    fb.textContent = s.text;
    fb.className = "feedback " + s.cls;
    CH.$("#confirmBtn").disabled = !s.ok;
    var xKey = document.querySelector("[data-key='X']");
    if (xKey) xKey.disabled = !(e.mode === "id" && v.length === 17);
    document.querySelectorAll(".keypad .key:not(.fn)").forEach(function (b) {
      if (b.getAttribute("data-key") !== "X") b.disabled = v.length >= maxLen();
    });
    // 60 or over by the ID's date of birth, and about to take a normal number: offer the green channel
    var older = s.ok && e.mode === "id" && e.purpose === "issue" && !CH.isGreen(K.st.choice.category) &&
      K.elderly && K.elderly.isSenior(v);
    CH.$("#rnSuggest").hidden = !older;
  }

  function confirm() {
    var e = K.st.entry;
    if (!state().ok) return;
    var proof = e.mode === "id" ? { id_number: e.value } : { phone: e.value };
    if (e.purpose === "rejoin") K.rejoin.submit(proof);
    else if (e.purpose === "card") K.cardRead({ name: null, id_number: e.value });
    else K.issue(proof);
  }
})();
