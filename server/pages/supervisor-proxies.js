/* Supervisor dashboard, 便民服务 view: 帮代办人员, the register of proxies (the
 * hall's 帮办代办员 and agencies' staff who take numbers for citizens,
 * CONTRACT §12). The list (GET /api/proxies): name, the ID number as the
 * server masks it (the page never shows it otherwise), note, and who added
 * them when, or 配置文件 for the ones the hall file lists (changed there, so
 * no 删除 here: the next start would list them again). Added with a name, an
 * ID number (checked on the page as the kiosk checks it: 18 characters, date
 * of birth, GB 11643 check character) and a note (POST /api/proxies); the
 * typed number is cleared once sent. A number already registered (409) is
 * said in words. Removed with two clicks (DELETE /api/proxies/{id}).
 *
 * Part of /supervisor: loaded after supervisor-booking.js (whose view it is
 * in) and before supervisor.js, which starts it through S.parts. Read when the
 * view opens, and every 30 s while it shows. */
(function () {
  "use strict";
  var CH = window.CH;
  var S = CH.supervisor = CH.supervisor || {};

  var CONFIRM_MS = 5000;
  var proxies = null, error = null;

  CH.$("#pxForm").addEventListener("submit", add);
  S.onBooking(load);

  function load() {
    return S.api("GET", "/api/proxies").then(function (res) {
      if (res.ok && res.data && Array.isArray(res.data.proxies)) { proxies = res.data.proxies; error = null; }
      else if (res.status !== 401) error = CH.errorText(res);
      render();
    });
  }

  function render() {
    var ul = CH.clear(CH.$("#pxList"));
    CH.$("#pxCount").textContent = proxies && proxies.length ? CH.t("px_count", { n: proxies.length }) : "";
    if (error) ul.appendChild(CH.el("li", { class: "msg error", text: error }));
    if (!proxies) { if (!error) ul.appendChild(CH.el("li", { class: "empty", text: CH.t("loading") })); return; }
    if (!proxies.length) { ul.appendChild(CH.el("li", { class: "empty", text: CH.t("px_none") })); return; }
    proxies.forEach(function (p) {
      var fromFile = p.source === "file";
      var action = fromFile ? CH.el("span", { class: "tag", title: CH.t("px_from_file_note"), text: CH.t("px_from_file") }) :
        CH.el("button", { type: "button", class: "btn tiny danger", "data-remove": p.id, text: CH.t("px_remove") });
      if (!fromFile) action.addEventListener("click", function () { remove(p, action); });
      ul.appendChild(CH.el("li", { class: "px-item", "data-proxy": p.id }, [
        CH.el("div", { class: "px-head" }, [
          CH.el("b", { class: "px-name", text: p.name }),
          CH.el("span", { class: "px-id", text: p.id_number || "" }),
          action
        ]),
        p.note ? CH.el("div", { class: "px-note", text: p.note }) : null,
        fromFile ? null : CH.el("div", { class: "px-by", text: CH.t("px_added", { name: p.added_by || "", d: (p.added_at || "").slice(0, 10) }) })
      ]));
    });
  }

  /* ---------- adding ---------- */

  /* The number as a person may type it (spaces, full-width digits, a small x), as the server reads it. */
  function normalised(raw) {
    var s = String(raw || "");
    if (s.normalize) s = s.normalize("NFKC");
    return s.replace(/\s+/g, "").toUpperCase();
  }

  function mark(field) {
    CH.$("#pxName").classList.toggle("invalid", field === "name");
    CH.$("#pxId").classList.toggle("invalid", field === "id_number");
    CH.$("#pxNote").classList.toggle("invalid", field === "note");
    var el = { name: "#pxName", id_number: "#pxId", note: "#pxNote" }[field];
    if (el) CH.$(el).focus();
  }

  function say(text, kind) {
    var m = CH.$("#pxMsg");
    m.className = "msg " + (kind || "");
    m.textContent = text;
  }

  function add(e) {
    e.preventDefault();
    var name = CH.$("#pxName").value.trim(), id = normalised(CH.$("#pxId").value), note = CH.$("#pxNote").value.trim();
    if (!name) { say(CH.t("px_need_name"), "error"); mark("name"); return; }
    if (CH.checkIdNumber(id) !== "ok") { say(CH.t("px_bad_id"), "error"); mark("id_number"); return; }
    var body = { name: name, id_number: id };
    if (note) body.note = note;
    var btn = CH.$("#pxAdd");
    btn.disabled = true;
    S.api("POST", "/api/proxies", body).then(function (res) {
      btn.disabled = false;
      if (res.status === 409) { say(CH.t("px_exists"), "error"); mark("id_number"); return; }
      if (!res.ok) {
        if (res.status !== 401) { say(CH.errorText(res), "error"); mark(res.error && res.error.field); }
        return;
      }
      var p = res.data && res.data.proxy;
      mark(null);
      CH.$("#pxName").value = CH.$("#pxId").value = CH.$("#pxNote").value = "";  // the number is not kept on the page
      say(CH.t("px_added_msg", { name: p ? p.name : name, id: p ? p.id_number : "" }), "ok");
      load();
    });
  }

  /* ---------- removing: two clicks ---------- */

  function remove(p, btn) {
    if (!btn.classList.contains("confirm")) {
      btn.classList.add("confirm");
      btn.textContent = CH.t("px_remove_confirm");
      setTimeout(function () { btn.classList.remove("confirm"); btn.textContent = CH.t("px_remove"); }, CONFIRM_MS);
      return;
    }
    btn.disabled = true;
    S.api("DELETE", "/api/proxies/" + p.id).then(function (res) {
      if (!res.ok && res.status !== 404) { btn.disabled = false; say(CH.errorText(res), "error"); return; }
      say(CH.t("px_removed", { name: p.name }), "ok");
      load();
    });
  }

  (S.parts = S.parts || []).push({
    start: function () { proxies = null; error = null; say("", ""); },
    render: render,
    tick: function () { if (S.bookingShown()) load(); }
  });
})();
