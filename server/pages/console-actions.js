/* Staff console, the window's actions: every window call of CONTRACT §5 has a
 * big button and a key (the legend under the buttons lists them), enabled only
 * when it can be made, and the calls that need a reason (call out of order,
 * pause, suspend, transfer) ask for it first in a dialog.
 *
 * Part of /console: loaded before console.js, which starts the console; both
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
    { id: "no-show", key: "x", label: "btn_no_show" },
    { id: "call", key: "c", label: "btn_call" },
    { id: "transfer", key: "t", label: "btn_transfer" },
    { id: "suspend", key: "g", label: "btn_suspend" },
    { id: "pause", key: "p", label: "btn_pause" },
    { id: "resume", key: "p", label: "btn_resume" }
  ];

  document.addEventListener("keydown", onKey);

  /* ---------- buttons and keys ---------- */

  /* The label of a window action, as its button shows it. */
  function actionLabel(id) {
    return (ACTIONS.filter(function (a) { return a.id === id; })[0] || {}).label;
  }

  function buildButtons() {
    var box = CH.clear(CH.$("#buttons"));
    ACTIONS.forEach(function (a) {
      box.appendChild(CH.el("button", { type: "button", id: "btn-" + a.id, class: "act " + (a.cls || ""), onclick: function () { run(a.id); } }, [
        CH.t(a.label), CH.el("span", { class: "key", text: a.key.toUpperCase() })
      ]));
    });
    renderButtons();
    var legend = CH.clear(CH.$("#legend"));
    legend.appendChild(CH.el("b", { text: CH.t("shortcuts") + ":" }));
    ACTIONS.forEach(function (a) {
      if (a.id === "resume") return;
      legend.appendChild(CH.el("kbd", { text: a.key.toUpperCase() }));
      legend.appendChild(document.createTextNode(a.id === "pause" ? CH.t("btn_pause") + " / " + CH.t("btn_resume") : CH.t(a.label)));
    });
    legend.appendChild(CH.el("kbd", { text: "L" }));
    legend.appendChild(document.createTextNode(CH.t("lang_key")));
  }

  function renderButtons() {
    var current = S.current();
    var has = !!current;
    var st = current && current.status;
    var open = S.windowStatus() !== "paused";
    var enable = {
      "call-next": !has && open,
      "call": !has && open,
      "recall": has && st !== "serving",
      "start": has && st !== "serving",
      "finish": has,
      "no-show": has && st !== "serving",
      "transfer": has,
      "suspend": has,
      "pause": open,
      "resume": !open
    };
    ACTIONS.forEach(function (a) {
      var b = document.getElementById("btn-" + a.id);
      if (!b) return;
      b.disabled = !enable[a.id];
      b.hidden = (a.id === "pause" && !open) || (a.id === "resume" && open);
    });
  }

  function onKey(e) {
    var session = S.session();
    if (!session || !session.window || CH.$("#workView").hidden) return;
    if (CH.$("#dlg").open) return;
    var tag = (e.target && e.target.tagName) || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var k = e.key.toLowerCase();
    if (k === "l") { CH.toggleLang(); return; }
    var open = S.windowStatus() !== "paused";
    var a = ACTIONS.filter(function (x) { return x.key === k && (x.id !== "pause" || open) && (x.id !== "resume" || !open); })[0];
    if (!a) return;
    e.preventDefault();
    var b = document.getElementById("btn-" + a.id);
    if (b && !b.disabled) run(a.id);
  }

  function run(id) {
    if (id === "call") return askCall("");
    if (id === "pause") return askPause();
    if (id === "suspend") return askSuspend();
    if (id === "transfer") return askTransfer();
    return S.post(id, {});
  }

  /* ---------- dialogs for calls that need more than a click ---------- */

  function dialog(title, fields, validate, submit) {
    var dlg = CH.$("#dlg");
    CH.$("#dlgTitle").textContent = title;
    var body = CH.clear(CH.$("#dlgBody"));
    fields.forEach(function (f) { body.appendChild(f); });
    CH.$("#dlgMsg").textContent = "";
    CH.$("#dlgForm").onsubmit = function (e) {
      e.preventDefault();
      var problem = validate();
      if (problem) { CH.$("#dlgMsg").textContent = problem; return; }
      submit().then(function (res) {
        if (res && res.ok) dlg.close();
        else if (res) CH.$("#dlgMsg").textContent = CH.errorText(res);
      });
    };
    CH.$("#dlgCancel").onclick = function () { dlg.close(); };
    dlg.showModal();
    var first = body.querySelector("input, textarea, select");
    if (first) first.focus();
  }
  function field(labelKey, input) {
    var wrap = CH.el("div");
    wrap.appendChild(CH.el("label", { for: input.id, text: CH.t(labelKey) }));
    wrap.appendChild(input);
    return wrap;
  }

  function askCall(number) {
    if (S.current()) { S.flash(CH.t("btn_call") + ": " + CH.t("no_current"), true); return; }
    var num = CH.el("input", { id: "fNumber", value: number, autocomplete: "off" });
    var reason = CH.el("textarea", { id: "fReason" });
    dialog(CH.t("call_title"), [field("call_number", num), field("reason", reason)], function () {
      if (!num.value.trim()) return CH.t("need_number");
      if (!reason.value.trim()) return CH.t("need_reason");
      return null;
    }, function () {
      return S.post("call", { number: num.value.trim().toUpperCase(), reason: reason.value.trim() });
    });
  }

  function askPause() {
    var reason = CH.el("textarea", { id: "fReason" });
    dialog(CH.t("pause_title"), [field("reason", reason)], function () {
      return reason.value.trim() ? null : CH.t("need_reason");
    }, function () { return S.post("pause", { reason: reason.value.trim() }); });
  }

  function askSuspend() {
    var reason = CH.el("input", { id: "fReason", autocomplete: "off" });
    var missing = CH.el("textarea", { id: "fMissing" });
    dialog(CH.t("suspend_title"), [field("missing", missing), field("reason_optional", reason)], function () {
      if (!lines(missing.value).length) return CH.t("need_missing");
      return null;
    }, function () {
      var items = lines(missing.value);
      return S.post("suspend", { reason: reason.value.trim() || items.join("、"), missing: items });
    });
  }
  function lines(text) {
    return text.split(/[\n；;、]+/).map(function (s) { return s.trim(); }).filter(Boolean);
  }

  function askTransfer() {
    var sel = CH.el("select", { id: "fService" });
    var current = S.current();
    S.services().filter(function (s) { return !current || s.code !== current.service; }).forEach(function (s) {
      sel.appendChild(CH.el("option", { value: s.code, text: s.code + " · " + s.name }));
    });
    var reason = CH.el("input", { id: "fReason", autocomplete: "off" });
    dialog(CH.t("transfer_title"), [field("transfer_service", sel), field("reason_optional", reason)], function () {
      return sel.value ? null : CH.t("transfer_service");
    }, function () {
      var body = { service: sel.value };
      if (reason.value.trim()) body.reason = reason.value.trim();
      return S.post("transfer", body);
    });
  }

  S.buildButtons = buildButtons;
  S.renderButtons = renderButtons;
  S.askCall = askCall;
  S.actionLabel = actionLabel;
})();
