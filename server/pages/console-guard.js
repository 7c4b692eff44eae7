/* Staff console, what keeps a day of 200 calls safe: the second press that
 * 办结 (F), 办结并叫号 (J) and 过号 (X) need, the 撤销 (undo) offered for 10 s
 * after a finish or no-show, the wait before 过号 (the server's
 * policy.no_show_after_s, as it counts it), and the timer since the current
 * ticket's call, on the hall's clock.
 *
 * Part of /console: loaded before console.js; shares CH.console with it. */
(function () {
  "use strict";
  var CH = window.CH;
  var S = CH.console = CH.console || {};

  var ARM_MS = 3000;    // the second press must come within this
  var UNDO_MS = 10000;  // the server undoes within 10 s of the action (server/domain/undo.py)
  var SECOND_PRESS = ["finish", "no-show", "finish-and-call-next"];

  var armed = null;     // {id, until}: the first press of a call that needs two
  var undo = null;      // {number, action, until}: what 撤销 would put back, and until when
  var noShow = null;    // {number, at}: when the current ticket may be marked a no-show

  /* Durations here are the browser's own clock (Date.now) from a moment the
   * server also counted from, so a wrong clock in the browser does not matter;
   * the call timer reads the server's called_at and so uses the hall's clock. */

  /* ---------- the second press ---------- */

  /* Whether a press of `id` acts now: a call that needs two presses acts on the
   * second within ARM_MS; the first one says so. Any other press cancels. */
  S.confirmPress = function (id, key) {
    if (SECOND_PRESS.indexOf(id) < 0) { S.disarm(); return true; }
    if (armed && armed.id === id && Date.now() < armed.until) { S.disarm(); return true; }
    armed = { id: id, until: Date.now() + ARM_MS };
    var what = { "finish": "finish_what", "no-show": "no_show_what", "finish-and-call-next": "finish_next_what" }[id];
    S.flash(CH.t("press_again", { key: key.toUpperCase(), what: CH.t(what) }), "arm");
    S.renderButtons();
    return false;
  };
  S.disarm = function () {
    if (!armed) return;
    armed = null;
    S.clearFlash("arm");
    S.renderButtons();
  };
  S.armedId = function () { return armed ? armed.id : null; };

  /* ---------- 撤销 ---------- */

  /* Offer to undo `action` ("finish" | "no-show") of ticket `number`, sent at `sentAt` (Date.now()). */
  S.offerUndo = function (number, action, sentAt) {
    undo = { number: number, action: action, until: sentAt + UNDO_MS };
    renderUndo();
  };
  S.dropUndo = function () { undo = null; renderUndo(); };
  S.undoable = function () { return !!undo && Date.now() < undo.until && !S.current(); };

  function renderUndo() {
    var bar = CH.$("#undoBar");
    if (!bar) return;
    var left = undo ? Math.ceil((undo.until - Date.now()) / 1000) : 0;
    if (!undo || left <= 0) { undo = null; bar.hidden = true; return; }
    // hidden while a ticket is current (the server refuses then), kept in case a late view put it there
    bar.hidden = !!S.current();
    if (bar.hidden) return;
    CH.$("#undoWhat").textContent = CH.t(undo.action === "no-show" ? "undo_no_show" : "undo_finish", { n: undo.number });
    var btn = CH.clear(CH.$("#undoBtn"));
    btn.appendChild(document.createTextNode(CH.t("undo_btn", { s: left })));
    btn.appendChild(CH.el("span", { class: "key", text: "U" }));
  }

  S.runUndo = function () {
    if (!S.undoable()) { S.flash(CH.t("nothing_to_undo"), "warn"); return null; }
    return S.post("undo", {});
  };

  /* ---------- the wait before 过号 ---------- */

  /* The server says ticket `number` may be marked a no-show in `seconds` (null: not called). */
  S.noShowWait = function (number, seconds) {
    noShow = typeof seconds === "number" ? { number: number, at: Date.now() + seconds * 1000 } : null;
    renderTimer();
  };
  /* Whole seconds before the current ticket may be marked a no-show (0: now, or not known). */
  S.noShowLeft = function () {
    var c = S.current();
    if (!noShow || !c || c.number !== noShow.number || c.status !== "called") return 0;
    return Math.max(0, Math.ceil((noShow.at - Date.now()) / 1000));
  };

  /* ---------- the timer since the call ---------- */

  function clock(s) {
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h ? h + ":" + CH.pad2(m) : CH.pad2(m)) + ":" + CH.pad2(s % 60);
  }

  function renderTimer() {
    var box = CH.$("#curTimer");
    if (!box) return;
    var c = S.current();
    var since = c && c.called_at ? Date.parse(c.called_at) : NaN;
    if (isNaN(since)) { box.hidden = true; return; }
    var s = Math.max(0, Math.floor((CH.hallNow().getTime() - since) / 1000));
    box.hidden = false;
    CH.$("#timerValue").textContent = clock(s);
    // past the service's time limit (限时办结): the timer turns red
    var svc = S.services().filter(function (x) { return x.code === c.service; })[0];
    box.classList.toggle("over", !!(svc && svc.time_limit_minutes) && s > svc.time_limit_minutes * 60);
    var wait = S.noShowLeft();
    CH.$("#noShowNote").textContent = wait > 0 ? CH.t("no_show_in", { s: wait }) : "";
  }
  S.renderTimer = renderTimer;

  /* ---------- one tick a second (twice, to stay on the second) ---------- */

  function tick() {
    if (armed && Date.now() >= armed.until) S.disarm();
    renderUndo();
    renderTimer();
  }
  setInterval(tick, 500);
  S.renderGuards = function () { renderUndo(); renderTimer(); };
})();
