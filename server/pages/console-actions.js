/* Staff console, the window's actions: every window call of CONTRACT §5 (and
 * 办结并叫号) has a big button and a key (the legend under the buttons lists
 * them), enabled only when it can be made. The keys work whenever the console
 * is open and nobody is typing in a field or a dialog — with a Chinese input
 * method switched on too (the key's position, `code`, stands in for it). A key
 * that cannot act now says why (paused, no current ticket, a ticket still
 * current, a call still on its way …) instead of doing nothing. 办结, 办结并叫号
 * and 过号 need a second press (console-guard.js); the calls that need a
 * reason ask for it first (console-dialogs.js); H opens 延时服务 (console-hours.js).
 *
 * Part of /console: loaded before console.js, which starts the console; they
 * share CH.console (the session, the window's state and `post` come from there). */
(function () {
  "use strict";
  var CH = window.CH;
  var S = CH.console = CH.console || {};

  var ACTIONS = [
    { id: "call-next", key: "n", label: "btn_call_next", cls: "main" },
    { id: "recall", key: "r", label: "btn_recall" },
    { id: "start", key: "s", label: "btn_start", cls: "go" },
    { id: "finish", key: "f", label: "btn_finish", cls: "go" },
    { id: "finish-and-call-next", key: "j", label: "btn_finish_next", cls: "go" },
    { id: "no-show", key: "x", label: "btn_no_show" },
    { id: "call", key: "c", label: "btn_call" },
    { id: "transfer", key: "t", label: "btn_transfer" },
    { id: "suspend", key: "g", label: "btn_suspend" },
    { id: "pause", key: "p", label: "btn_pause" },
    { id: "resume", key: "p", label: "btn_resume" }
  ];
  var NEEDS_CURRENT = ["recall", "start", "finish", "finish-and-call-next", "no-show", "transfer", "suspend"];

  document.addEventListener("keydown", onKey);

  /* ---------- buttons and keys ---------- */

  /* The label of a window action, as its button shows it. */
  function actionLabel(id) {
    if (id === "undo") return "btn_undo";
    if (id === "requeue") return "btn_requeue";
    return (ACTIONS.filter(function (a) { return a.id === id; })[0] || {}).label;
  }

  function buildButtons() {
    var box = CH.clear(CH.$("#buttons"));
    ACTIONS.forEach(function (a) {
      box.appendChild(CH.el("button", { type: "button", id: "btn-" + a.id, class: "act " + (a.cls || ""), onclick: function () { press(a); } }, [
        CH.el("span", { class: "label", text: CH.t(a.label) }), CH.el("span", { class: "key", text: a.key.toUpperCase() })
      ]));
    });
    CH.$("#undoBtn").onclick = S.runUndo;
    renderButtons();
    var legend = CH.clear(CH.$("#legend"));
    legend.appendChild(CH.el("b", { text: CH.t("shortcuts") + ":" }));
    var item = function (key, words) {
      legend.appendChild(CH.el("span", { class: "item" }, [CH.el("kbd", { text: key }), words]));
    };
    ACTIONS.forEach(function (a) {
      if (a.id === "resume") return;
      item(a.key.toUpperCase(), a.id === "pause" ? CH.t("btn_pause") + " / " + CH.t("btn_resume") : CH.t(a.label));
    });
    item("U", CH.t("key_undo"));
    item("H", CH.t("hours_btn"));
    item("L", CH.t("lang_key"));
    item("Esc", CH.t("key_esc"));
    legend.appendChild(CH.el("span", { class: "double", text: CH.t("need_double") }));
  }

  /* Why action `id` cannot be made now, in words; null when it can. */
  function why(id) {
    var c = S.current(), paused = S.windowStatus() === "paused";
    if (S.busy()) return CH.t("busy");
    if (!c && NEEDS_CURRENT.indexOf(id) >= 0) return CH.t("hint_no_current");
    if (c && (id === "call-next" || id === "call")) return CH.t("hint_finish_first", { n: c.number });
    if (paused && (id === "call-next" || id === "call")) return CH.t("hint_paused");
    if (paused && id === "finish-and-call-next") return CH.t("hint_paused_finish");
    if (c && c.status === "serving") {
      if (id === "recall") return CH.t("hint_serving", { n: c.number, what: CH.t("recall_what") });
      if (id === "start") return CH.t("hint_serving", { n: c.number, what: CH.t("start_what") });
      if (id === "no-show") return CH.t("hint_serving", { n: c.number, what: CH.t("no_show_what") });
    }
    if (id === "no-show" && S.noShowLeft() > 0) return CH.t("no_show_wait", { s: S.noShowLeft() });
    return null;
  }

  function renderButtons() {
    var c = S.current(), has = !!c, serving = has && c.status === "serving";
    var open = S.windowStatus() !== "paused";
    var armed = S.armedId();
    // greyed out when it cannot apply in this state (its key then says why); 过号
    // stays pressable during the wait after the call, and says how long is left
    var enable = {
      "call-next": !has && open,
      "call": !has && open,
      "recall": has && !serving,
      "start": has && !serving,
      "finish": has,
      "finish-and-call-next": has && open,
      "no-show": has && !serving,
      "transfer": has,
      "suspend": has,
      "pause": open,
      "resume": !open
    };
    ACTIONS.forEach(function (a) {
      var b = document.getElementById("btn-" + a.id);
      if (!b) return;
      b.disabled = !enable[a.id];
      b.classList.toggle("armed", armed === a.id);
      b.querySelector(".label").textContent = CH.t(armed === a.id ? "press_again_btn" : a.label);
      b.hidden = (a.id === "pause" && !open) || (a.id === "resume" && open);
    });
  }

  /* The letter of a key press: its character, or, when an input method takes the
   * key ("Process") or the layout gives no letter, the key's place (KeyN → "n"). */
  function letter(e) {
    if (e.key && e.key.length === 1 && /[a-z]/i.test(e.key)) return e.key.toLowerCase();
    var m = /^Key([A-Z])$/.exec(e.code || "");
    return m ? m[1].toLowerCase() : "";
  }

  function onKey(e) {
    var session = S.session();
    if (!session || !session.window || CH.$("#workView").hidden) return;
    if (CH.$("#dlg").open) return;
    var tag = (e.target && e.target.tagName) || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (e.target && e.target.isContentEditable)) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "Escape") { S.disarm(); return; }
    var k = letter(e);
    if (!k) return;
    if (k === "l") { e.preventDefault(); CH.toggleLang(); return; }
    if (k === "u") { e.preventDefault(); S.disarm(); S.runUndo(); return; }
    if (k === "h") { e.preventDefault(); S.disarm(); S.askHours(); return; }
    var open = S.windowStatus() !== "paused";
    var a = ACTIONS.filter(function (x) { return x.key === k && (x.id !== "pause" || open) && (x.id !== "resume" || !open); })[0];
    if (!a) return;
    e.preventDefault();
    press(a);
  }

  /* A press of action `a`, by key or click: refused in words, armed, or made. */
  function press(a) {
    var problem = why(a.id);
    if (problem) { S.disarm(); S.flash(problem, "warn"); return; }
    if (!S.confirmPress(a.id, a.key)) return;
    if (a.id === "call") return S.askCall("");
    if (a.id === "pause") return S.askPause();
    if (a.id === "suspend") return S.askSuspend();
    if (a.id === "transfer") return S.askTransfer();
    return S.post(a.id, {});
  }

  S.buildButtons = buildButtons;
  S.renderButtons = renderButtons;
  S.actionLabel = actionLabel;
})();
