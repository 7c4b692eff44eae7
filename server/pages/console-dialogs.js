/* Staff console, the calls that need more than a key: 指定叫号 (a number and a
 * reason, audited), 暂停服务 (a reason), 挂起 (every missing document at once,
 * 一次性告知) and 转移 (the target service; one that no open window serves now
 * is marked "当前无窗口办理此业务" and needs a tick before it goes — the server
 * allows such a transfer and says so, "unstaffed": true, whatever
 * policy.unstaffed_services says, so the console asks rather than blocks).
 *
 * Part of /console: loaded before console.js; shares CH.console with it. */
(function () {
  "use strict";
  var CH = window.CH;
  var S = CH.console = CH.console || {};

  /* The one dialog of the console: `fields` in its body, `validate` (a problem in
   * words, or null) before `submit` (a Promise of a CH.api result, which closes
   * it when ok); `okKey` names its OK button's words (default 确定). */
  function dialog(title, fields, validate, submit, okKey) {
    var dlg = CH.$("#dlg");
    CH.$("#dlgTitle").textContent = title;
    CH.$("#dlgOk").textContent = CH.t(okKey || "ok");
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
    S.disarm();
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
    if (S.current()) { S.flash(CH.t("hint_finish_first", { n: S.current().number }), "warn"); return; }
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
      var unstaffed = S.servedNow(s.code) === false;
      sel.appendChild(CH.el("option", { value: s.code, "data-unstaffed": unstaffed ? "1" : null,
        text: s.code + " · " + s.name + (unstaffed ? "（" + CH.t("unstaffed") + "）" : "") }));
    });
    var confirm = CH.el("input", { id: "fUnstaffedOk", type: "checkbox" });
    var warn = CH.el("div", { id: "fUnstaffed", class: "unstaffed-warn", role: "alert" }, [
      CH.el("p", { text: CH.t("unstaffed_warn") }),
      CH.el("label", { class: "check" }, [confirm, " " + CH.t("unstaffed_ok")])
    ]);
    var unstaffed = function () { return S.servedNow(sel.value) === false; };
    var showWarn = function () { warn.hidden = !unstaffed(); confirm.checked = false; CH.$("#dlgMsg").textContent = ""; };
    sel.addEventListener("change", showWarn);
    var reason = CH.el("input", { id: "fReason", autocomplete: "off" });
    dialog(CH.t("transfer_title"), [field("transfer_service", sel), warn, field("reason_optional", reason)], function () {
      if (!sel.value) return CH.t("transfer_service");
      // asked again at the moment of sending: a window may have closed meanwhile
      if (unstaffed() && !confirm.checked) { warn.hidden = false; return CH.t("need_unstaffed_ok"); }
      return null;
    }, function () {
      var body = { service: sel.value };
      if (reason.value.trim()) body.reason = reason.value.trim();
      return S.post("transfer", body);
    });
    showWarn();
  }

  S.dialog = dialog;
  S.field = field;
  S.askCall = askCall;
  S.askPause = askPause;
  S.askSuspend = askSuspend;
  S.askTransfer = askTransfer;
})();
