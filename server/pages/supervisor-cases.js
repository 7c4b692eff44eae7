/* Supervisor dashboard, the 差评整改 cases (CONTRACT §10): the badge of cases
 * to do and overdue in the top bar, and the cases page it opens (/supervisor#cases,
 * one case: #cases/ID) — the list, filtered by state and kind, most urgent first,
 * with the one case picked beside it (supervisor-case.js).
 *
 * "待办" on the badge is every case not closed, overdue ones included; "超期"
 * the overdue ones. Cases are read over HTTP (GET /api/follow-ups) at the start,
 * every 30 s, and shortly after follow_up.opened, .changed or .overdue, which
 * also re-read the case on show.
 *
 * Part of /supervisor: loaded before supervisor.js, which starts it through
 * S.parts; the page's address (#cases) decides whether the dashboard or the
 * cases show, so the browser's back button goes back to the dashboard. */
(function () {
  "use strict";
  var CH = window.CH;
  var S = CH.supervisor = CH.supervisor || {};

  var LIMIT = 500;                 // the most the list answer gives
  var EVENTS = ["follow_up.opened", "follow_up.changed", "follow_up.overdue"];

  var filter = { state: "active", kind: "" };
  var list = null, listError = null, capped = false;
  var counts = null;               // {todo, overdue} for the badge, or null before the first answer
  var seq = 0;

  document.querySelectorAll("#caseStates [data-state]").forEach(function (b) {
    b.addEventListener("click", function () { filter.state = b.getAttribute("data-state"); list = null; renderList(); refreshList(); });
  });
  document.querySelectorAll("#caseKinds [data-kind]").forEach(function (b) {
    b.addEventListener("click", function () { filter.kind = b.getAttribute("data-kind"); list = null; renderList(); refreshList(); });
  });
  CH.$("#casesBadge").addEventListener("click", function () { location.hash = "#cases"; });
  CH.$("#casesBack").addEventListener("click", function () { location.hash = ""; });
  window.addEventListener("hashchange", route);

  /* ---------- which view ---------- */

  /* null on the dashboard; {id} on the cases page (id null when no case is picked) */
  function wanted() {
    var m = /^#cases(?:\/(\d+))?$/.exec(location.hash);
    return m ? { id: m[1] ? Number(m[1]) : null } : null;
  }
  function showing() { return !CH.$("#casesView").hidden; }

  function route() {
    var w = wanted();
    CH.$("#dashMain").hidden = !!w;
    CH.$("#casesView").hidden = !w;
    if (!w || !S.session()) return;
    refreshList();
    S.showCase(w.id);
  }

  S.openCase = function (id) { location.hash = "#cases/" + id; };

  /* ---------- reading ---------- */

  function query() {
    var q = ["limit=" + LIMIT];
    if (filter.state !== "active" && filter.state !== "all") q.push("state=" + filter.state);
    if (filter.kind) q.push("kind=" + filter.kind);
    return "/api/follow-ups?" + q.join("&");
  }

  function refreshList() {
    if (!S.session() || !showing()) return Promise.resolve();
    var mine = ++seq;
    return S.api("GET", query()).then(function (res) {
      if (mine !== seq) return;
      if (res.ok && res.data && Array.isArray(res.data.follow_ups)) {
        var got = res.data.follow_ups;
        capped = got.length >= LIMIT;
        // not closed: open and overdue, which the list gives first
        list = filter.state === "active" ? got.filter(function (c) { return c.state !== "closed"; }) : got;
        listError = null;
      } else if (res.status !== 401) listError = CH.t("cases_failed", { msg: CH.errorText(res) });
      renderList();
    });
  }

  function refreshCounts() {
    if (!S.session()) return Promise.resolve();
    var read = function (state) { return S.api("GET", "/api/follow-ups?state=" + state + "&limit=" + LIMIT); };
    return Promise.all([read("open"), read("overdue")]).then(function (rs) {
      var ok = rs.every(function (r) { return r.ok && r.data && Array.isArray(r.data.follow_ups); });
      if (ok) {
        var open = rs[0].data.follow_ups.length, overdue = rs[1].data.follow_ups.length;
        counts = { todo: open + overdue, overdue: overdue, capped: open >= LIMIT || overdue >= LIMIT };
      } else if (rs[0].status === 404) counts = null;
      renderBadge();
    });
  }

  function refresh() { refreshCounts(); refreshList(); }
  var refreshLater = CH.debounce(refresh, 500);

  /* After a step taken here on case `c`: its row at once, then the list, the badge and the figures read again. */
  S.casesChanged = function (c) {
    if (c && list) {
      var fits = filter.state === "all" || (filter.state === "active" ? c.state !== "closed" : filter.state === c.state);
      list = list.map(function (x) { return x.id === c.id ? c : x; }).filter(function (x) { return x.id !== c.id || fits; });
      renderList();
    }
    refresh();
    if (S.refreshFigures) S.refreshFigures();
  };

  /* ---------- the badge ---------- */

  function renderBadge() {
    var b = CH.clear(CH.$("#casesBadge"));
    b.hidden = !counts;
    if (!counts) return;
    b.setAttribute("data-state", counts.overdue ? "overdue" : counts.todo ? "todo" : "none");
    b.setAttribute("data-todo", counts.todo);
    b.setAttribute("data-overdue", counts.overdue);
    b.title = CH.t("cases_badge_title");
    var more = counts.capped ? "+" : "";
    b.appendChild(CH.el("span", { class: "cb-name", text: CH.t("cases_badge") }));
    b.appendChild(CH.el("span", { class: "cb-n", text: counts.todo || counts.overdue ?
      CH.t("cases_counts", { open: counts.todo + more, overdue: counts.overdue + more }) : CH.t("cases_badge_none") }));
  }

  /* ---------- the list ---------- */

  function renderList() {
    document.querySelectorAll("#caseStates [data-state]").forEach(function (b) {
      b.setAttribute("aria-selected", String(b.getAttribute("data-state") === filter.state));
    });
    document.querySelectorAll("#caseKinds [data-kind]").forEach(function (b) {
      b.setAttribute("aria-selected", String(b.getAttribute("data-kind") === filter.kind));
    });
    var msg = CH.$("#caseListMsg");
    msg.className = listError ? "msg error" : "msg";
    msg.textContent = listError || (capped ? CH.t("cases_first", { n: LIMIT }) : "");
    var tb = CH.clear(CH.$("#caseRows"));
    if (!list) { if (!listError) tb.appendChild(emptyRow(CH.t("loading"))); return; }
    if (!list.length) { tb.appendChild(emptyRow(CH.t("cases_none"))); return; }
    var picked = S.caseId ? S.caseId() : null;
    list.forEach(function (c) {
      var open = function () { S.openCase(c.id); };
      tb.appendChild(CH.el("tr", {
        "data-case": c.id, "data-state": c.state, tabindex: "0",
        class: "c-" + c.state + (c.id === picked ? " picked" : ""),
        onclick: open, onkeydown: function (e) { if (e.key === "Enter") open(); }
      }, [
        CH.el("td", {}, [statePill(c.state)]),
        CH.el("td", { class: "kind", text: CH.t("kind_" + c.kind) }),
        CH.el("td", { class: "num", text: c.window ? String(c.window) : "—" }),
        CH.el("td", { class: "staff", text: c.staff ? c.staff.name : "—" }),
        CH.el("td", { class: "what" }, whatOf(c)),
        CH.el("td", { class: "when", text: S.when(c.opened_at) }),
        CH.el("td", { class: "due" + (c.state === "overdue" ? " late" : ""), text: S.when(c.due_at) }),
        CH.el("td", { class: "progress" }, progressOf(c))
      ]));
    });
  }

  function emptyRow(text) {
    return CH.el("tr", { class: "empty" }, [CH.el("td", { colspan: "8", text: text })]);
  }

  function statePill(state) {
    return CH.el("span", { class: "cpill " + state, text: CH.t("cstate_" + state) });
  }
  S.statePill = statePill;

  /* A bad rating's level and reasons, or a complaint's words: one line. */
  function whatOf(c) {
    if (c.rating) {
      var r = c.rating;
      return [CH.el("b", { class: "score s" + r.score, text: CH.t("rate_" + r.score) }),
        " " + (r.reasons || []).join("、") + (r.comment ? (r.reasons && r.reasons.length ? " · " : "") + r.comment : "")];
    }
    return [c.complaint ? c.complaint.text : ""];
  }

  /* What has been done: the steps taken, an appeal, the citizen's verdict. */
  function progressOf(c) {
    var kinds = (c.steps || []).map(function (s) { return s.kind; });
    var chips = ["callback", "fix", "explain"].filter(function (k) { return kinds.indexOf(k) >= 0; })
      .map(function (k) { return CH.el("span", { class: "chip done", text: CH.t("step_" + k) }); });
    if (c.appeal && c.appeal !== "none") chips.push(CH.el("span", { class: "chip appeal " + c.appeal, text: CH.t("appeal_" + c.appeal) }));
    if (c.satisfaction) chips.push(CH.el("span", { class: "chip sat", text: CH.t("sat_" + c.satisfaction.result) }));
    return chips;
  }

  (S.parts = S.parts || []).push({
    start: function () { counts = null; list = null; refreshCounts(); route(); },
    render: function () { renderBadge(); renderList(); },
    tick: function () { refresh(); if (showing()) S.reloadCase(); },
    event: function (msg) {
      if (EVENTS.indexOf(msg.event) < 0) return;
      refreshLater();
      if (showing() && msg.follow_up) S.reloadCase(msg.follow_up.id);
    }
  });
})();
