/* Supervisor dashboard, the integrity notices (清廉知识上屏) the hall screen
 * shows: listed with whether each is on screen now, added and edited in a
 * dialog (the server's error shown at the field it names), deleted with two
 * clicks.
 *
 * Part of /supervisor: loaded before supervisor.js, which starts the dashboard;
 * both share CH.supervisor (`api`, and the queue whose notices are on screen
 * now, come from there). Notices are read over HTTP at the start and on each
 * notice.changed (refreshNotices). */
(function () {
  "use strict";
  var CH = window.CH;
  var S = CH.supervisor = CH.supervisor || {};

  var notices = [];
  var editing = null;              // the notice being edited, or null for a new one

  CH.$("#noticeAdd").addEventListener("click", function () { openNotice(null); });
  CH.$("#noticeForm").addEventListener("submit", saveNotice);
  CH.$("#noticeCancel").addEventListener("click", function () { CH.$("#noticeDlg").close(); });

  function refreshNotices() {
    return S.api("GET", "/api/notices").then(function (res) {
      var m = CH.$("#noticeMsg");
      if (res.ok && res.data && Array.isArray(res.data.notices)) {
        notices = res.data.notices;
        if (m.classList.contains("error")) { m.textContent = ""; m.className = "msg"; }
      } else if (res.status !== 401) { m.className = "msg error"; m.textContent = CH.errorText(res); }
      renderNotices();
    });
  }

  function onScreenNow(n) {
    return (S.queue.notices || []).some(function (q) { return q.id === n.id; });
  }

  function renderNotices() {
    var ul = CH.clear(CH.$("#notices"));
    if (!notices.length) { ul.appendChild(CH.el("li", { class: "empty", text: CH.t("notices_none") })); return; }
    notices.forEach(function (n) {
      var when = n.starts_on || n.ends_on ? CH.t("n_dates", { s: n.starts_on || "…", e: n.ends_on || "…" }) : CH.t("n_always");
      var del = CH.el("button", { type: "button", class: "btn tiny danger", "data-delete": n.id, text: CH.t("delete") });
      del.addEventListener("click", function () { deleteNotice(n, del); });
      ul.appendChild(CH.el("li", { "data-notice": n.id, class: "notice" }, [
        CH.el("div", { class: "n-head" }, [
          CH.el("b", { class: "n-title", text: n.title }),
          onScreenNow(n) ? CH.el("span", { class: "tag on", text: CH.t("n_on_screen") }) : CH.el("span", { class: "tag", text: CH.t("n_not_shown") }),
          CH.el("span", { class: "n-when", text: when + " · " + CH.t("n_pos", { p: n.position || 0 }) }),
          CH.el("span", { class: "n-actions" }, [
            CH.el("button", { type: "button", class: "btn tiny", "data-edit": n.id, text: CH.t("edit"), onclick: function () { openNotice(n); } }),
            del
          ])
        ]),
        CH.el("div", { class: "n-body", text: n.body })
      ]));
    });
  }

  function openNotice(n) {
    editing = n;
    CH.$("#noticeDlgTitle").textContent = CH.t(n ? "notice_edit" : "notice_add_title");
    CH.$("#nTitle").value = n ? n.title : "";
    CH.$("#nBody").value = n ? n.body : "";
    CH.$("#nStarts").value = n && n.starts_on ? n.starts_on : "";
    CH.$("#nEnds").value = n && n.ends_on ? n.ends_on : "";
    CH.$("#nPosition").value = n ? String(n.position || 0) : "";
    CH.$("#noticeDlgMsg").textContent = "";
    markField(null);
    CH.$("#noticeDlg").showModal();
    CH.$("#nTitle").focus();
  }

  var FIELD_INPUTS = { title: "#nTitle", body: "#nBody", starts_on: "#nStarts", ends_on: "#nEnds", position: "#nPosition" };
  function markField(field) {
    Object.keys(FIELD_INPUTS).forEach(function (k) { CH.$(FIELD_INPUTS[k]).classList.toggle("invalid", k === field); });
    if (field && FIELD_INPUTS[field]) CH.$(FIELD_INPUTS[field]).focus();
  }

  function saveNotice(e) {
    e.preventDefault();
    var msg = CH.$("#noticeDlgMsg");
    var body = { title: CH.$("#nTitle").value.trim(), body: CH.$("#nBody").value.trim() };
    if (!body.title) { msg.textContent = CH.t("need_title"); markField("title"); return; }
    if (!body.body) { msg.textContent = CH.t("need_body"); markField("body"); return; }
    if (CH.$("#nStarts").value) body.starts_on = CH.$("#nStarts").value;
    if (CH.$("#nEnds").value) body.ends_on = CH.$("#nEnds").value;
    var pos = CH.$("#nPosition").value.trim();
    if (pos !== "") body.position = Number(pos);
    var wasEditing = editing;
    CH.$("#noticeSave").disabled = true;
    S.api(wasEditing ? "PUT" : "POST", wasEditing ? "/api/notices/" + wasEditing.id : "/api/notices", body).then(function (res) {
      CH.$("#noticeSave").disabled = false;
      if (!res.ok) {
        msg.textContent = CH.errorText(res);
        markField(res.error && res.error.field);
        return;
      }
      CH.$("#noticeDlg").close();
      var m = CH.$("#noticeMsg");
      m.className = "msg ok";
      m.textContent = CH.t(wasEditing ? "notice_saved" : "notice_created", { title: body.title });
      refreshNotices();
    });
  }

  /* Two clicks delete: the first asks, the second (within 5 s) does it. */
  function deleteNotice(n, btn) {
    if (!btn.classList.contains("confirm")) {
      btn.classList.add("confirm");
      btn.textContent = CH.t("delete_confirm");
      setTimeout(function () { btn.classList.remove("confirm"); btn.textContent = CH.t("delete"); }, 5000);
      return;
    }
    btn.disabled = true;
    S.api("DELETE", "/api/notices/" + n.id).then(function (res) {
      var m = CH.$("#noticeMsg");
      if (!res.ok) { btn.disabled = false; m.className = "msg error"; m.textContent = CH.errorText(res); return; }
      m.className = "msg ok";
      m.textContent = CH.t("notice_deleted", { title: n.title });
      refreshNotices();
    });
  }

  S.refreshNotices = refreshNotices;
  S.renderNotices = renderNotices;
})();
