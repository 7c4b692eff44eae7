/* 帮代办 at the kiosk (CONTRACT §12): someone takes the ticket for the applicant.
 *
 * "我是代办人（帮他人办理）" is offered where the kiosk would ask for an ID number:
 * on the real-name step, and on the category screen of a service that asks for
 * none (or when an ID card was read: the category would issue at once). The
 * proxy screen then asks for two ID numbers, each typed on one keypad (tap a
 * field to type into it) or read from a card: the first card read fills the
 * applicant's field, the second the proxy's own. 确认取号 sends `id_number`
 * (the applicant: the per-ID caps count them) and `proxy_id_number`; the ticket
 * says 代办. Both numbers are forgotten as soon as the ticket is issued, the
 * citizen leaves this screen, or the kiosk goes back to the start.
 * Part of the kiosk: kiosk.js (loaded last) starts it. */
(function () {
  "use strict";
  var CH = window.CH;
  var K = CH.kiosk = CH.kiosk || {};

  var f = fresh();            // the two numbers, and which field the keypad types into
  var from = "category";      // where 返回 goes: the category screen or the real-name step
  function fresh() { return { applicant: "", proxy: "", active: "applicant" }; }

  K.routes = K.routes || {};
  K.routes.proxy = function () { render(); K.show("scrProxy"); };
  K.refusedOn = K.refusedOn || {};
  K.refusedOn.scrProxy = function (text) { K.go("proxy"); CH.$("#pxMsg").textContent = text; };

  K.proxy = {
    init: function () {
      CH.$("#catProxy").addEventListener("click", function () {
        K.st.choice.proxy = !K.st.choice.proxy;  // then a category: the applicant's
        renderOption();
      });
      CH.$("#rnProxy").addEventListener("click", function () {
        var e = K.st.entry;
        K.st.choice.proxy = true;
        f = fresh();
        if (e.mode === "id") f.applicant = e.value;  // what was typed so far was the applicant's
        if (CH.checkIdNumber(f.applicant) === "ok") f.active = "proxy";
        from = "realname";
        K.go("proxy");
      });
      CH.$("#pxApplicant").addEventListener("click", function () { f.active = "applicant"; render(); });
      CH.$("#pxProxy").addEventListener("click", function () { f.active = "proxy"; render(); });
      CH.$("#pxBack").addEventListener("click", function () { K.st.choice.proxy = false; K.go(from); });
      CH.$("#pxConfirm").addEventListener("click", confirm);
      buildPad();
      document.addEventListener("keydown", onHardKey);
    },
    /* from the category screen, its category picked (kiosk.js `pick`) */
    open: function () {
      f = fresh();
      var p = K.st.person;  // an ID card read before: the first card is the applicant's
      if (p) { f.applicant = p.id_number; f.active = "proxy"; }
      from = "category";
      K.go("proxy");
    },
    /* an ID card read on this screen (kiosk-elderly.js): into the applicant's field, then the proxy's */
    card: function (id) {
      var target = f.active === "proxy" && !f.proxy ? "proxy" : CH.checkIdNumber(f.applicant) === "ok" ? "proxy" : "applicant";
      f[target] = id;
      f.active = "proxy";  // whichever it filled, the proxy's own comes (or came) last
      CH.$("#pxMsg").textContent = "";
      render();
      if (K.say) K.say(CH.t(target === "applicant" ? "proxy_card_applicant" : "proxy_card_proxy"));
      return true;
    },
    /* the two fields, read or put back (the barcode scanner undoes what its keys typed) */
    fields: function (saved) {
      if (!saved) return { applicant: f.applicant, proxy: f.proxy, active: f.active };
      f = { applicant: saved.applicant, proxy: saved.proxy, active: saved.active };
      if (K.st.current === "scrProxy") render();
      return null;
    },
    onScreen: function (id) {
      if (id === "scrCategory") renderOption();
      if (id === "scrRealName") CH.$("#rnProxy").hidden = K.st.entry.purpose !== "issue";
      if (id !== "scrProxy" && id !== "scrIssuing") f = fresh();  // no ID number outlives this screen
    },
    rerender: function (c) {
      if (c === "scrProxy") render();
      if (c === "scrCategory") renderOption();
    },
    reset: function () { f = fresh(); }
  };

  /* The category screen's option: where no ID step follows (the service needs none, or a card was read). */
  function renderOption() {
    var s = K.st.choice.service, b = CH.$("#catProxy");
    b.hidden = !s || (s.real_name_required && !K.st.person);
    var on = !!K.st.choice.proxy;
    b.setAttribute("aria-pressed", on ? "true" : "false");
    b.textContent = CH.t(on ? "proxy_chosen" : "proxy_start");
  }

  /* ---------- the keypad and the two fields ---------- */

  function buildPad() {
    var pad = CH.clear(CH.$("#pxPad"));
    ["1", "2", "3", "4", "5", "6", "7", "8", "9", "X", "0"].forEach(function (k) {
      pad.appendChild(CH.el("button", { type: "button", class: "key", "data-px": k, text: k, onclick: function () { type(k); } }));
    });
    pad.appendChild(CH.el("button", { type: "button", class: "key fn", "data-px": "back", "data-t": "key_back", text: CH.t("key_back"), onclick: function () { type("back"); } }));
    pad.appendChild(CH.el("button", { type: "button", class: "key fn wide", "data-px": "clear", "data-t": "key_clear", text: CH.t("key_clear"), onclick: function () { type("clear"); } }));
  }

  function type(k) {
    var v = f[f.active];
    if (k === "back") v = v.slice(0, -1);
    else if (k === "clear") v = "";
    else if (v.length < 18) {
      if (k === "X" && v.length !== 17) return;
      v += k;
    }
    f[f.active] = v;
    // the applicant's number complete and right: on to the proxy's
    if (f.active === "applicant" && CH.checkIdNumber(v) === "ok" && !f.proxy) f.active = "proxy";
    CH.$("#pxMsg").textContent = "";
    render();
  }

  function onHardKey(e) {
    if (K.st.current !== "scrProxy" || e.defaultPrevented) return;
    if (/^[0-9]$/.test(e.key)) type(e.key);
    else if (e.key === "x" || e.key === "X") type("X");
    else if (e.key === "Backspace") type("back");
    else if (e.key === "Enter" && !CH.$("#pxConfirm").disabled) confirm();
  }

  /* {ok, cls, text} of one field */
  function state(v) {
    var st = CH.checkIdNumber(v);
    if (st === "ok") return { ok: true, cls: "ok", text: "✓" };
    if (st === "incomplete") return { ok: false, cls: "info", text: CH.t("id_progress", { n: v.length }) };
    return { ok: false, cls: "bad", text: CH.t("id_" + st) };
  }

  function same() { return f.applicant && f.applicant === f.proxy; }

  function render() {
    var s = K.st.choice.service;
    CH.$("#pxService").textContent = s ? s.code + " " + s.name : "";
    CH.$("#pxService").hidden = !s;
    ["applicant", "proxy"].forEach(function (which) {
      var id = which === "applicant" ? "pxApplicant" : "pxProxy", v = f[which], st = state(v);
      CH.$("#" + id).setAttribute("aria-pressed", f.active === which ? "true" : "false");
      CH.$("#" + id).setAttribute("data-ok", st.ok ? "yes" : "no");
      var box = CH.clear(CH.$("#" + id + "Entry")), at = 0;
      [6, 8, 4].forEach(function (len) {
        var part = v.slice(at, at + len);
        var span = CH.el("span", { class: "grp" }, [part]);
        if (part.length < len) span.appendChild(CH.el("span", { class: "ph", text: "·".repeat(len - part.length) }));
        box.appendChild(span);
        at += len;
      });
      var note = CH.$("#" + id + "State");
      note.textContent = v ? st.text : "";
      note.className = "px-state " + st.cls;
    });
    var fb = CH.$("#pxFeedback");
    fb.textContent = same() ? CH.t("proxy_same") : CH.t(f.active === "applicant" ? "proxy_typing_applicant" : "proxy_typing_proxy");
    fb.className = "feedback " + (same() ? "bad" : "info");
    CH.$("#pxConfirm").disabled = !(state(f.applicant).ok && state(f.proxy).ok && !same());
    var v = f[f.active];
    document.querySelectorAll("#pxPad .key:not(.fn)").forEach(function (b) {
      b.disabled = b.getAttribute("data-px") === "X" ? v.length !== 17 : v.length >= 18;
    });
  }

  function confirm() {
    if (CH.$("#pxConfirm").disabled) return;
    K.issue({ id_number: f.applicant, proxy_id_number: f.proxy });
  }
})();
