/* 投诉 / 监督 on the phone page, and the citizen's word on how a case was handled
 * (CONTRACT §10).
 *
 * - Any time, "投诉 / 监督" opens a form: common topics to touch, the text, an
 *   optional call-back phone; POST /api/complaints with the ticket and its key
 *   (no log-in). The 201 names the case and its due date ("我们将在 … 前答复");
 *   a 429 says in words when to try again.
 * - The cases this ticket opened (its 差评's, its complaints'): the ticket's
 *   `follow_ups` (given to its key holder: id, state, due_at, answered,
 *   satisfaction), and the ones this phone filed, kept in localStorage for
 *   CASE_KEEP_DAYS (they show at once, before the ticket is read again, and
 *   on a server that does not list them). Each shows its due date; once the
 *   hall has answered (a fix or an explanation), three buttons rate the
 *   handling once (POST /api/follow-ups/{id}/satisfaction, the ticket's key).
 *   A case the server does not describe offers them behind "已收到答复？", and
 *   the server says in words when the hall has not answered yet.
 * Loaded before phone.js, which starts it (CH.phoneComplaint.init). */
(function () {
  "use strict";
  var CH = window.CH;
  var TOPICS = ["topic_attitude", "topic_wait", "topic_runs", "topic_favours", "topic_unclear", "topic_other"];
  var RESULTS = ["satisfied", "basically", "unsatisfied"];
  var PREFIX = "clearhall.cases.";
  var CASE_KEEP_DAYS = 90;
  var ctx = null, ticket = null;
  var topics = {};        // the topics touched
  var sending = false;
  var filed = null;       // the last complaint's answer, for the line under the button
  var remembered = [];    // [{id, kind, due_at, result}] filed from this phone
  var asked = {};         // case id → a message under its buttons
  var revealed = {};      // case id → the citizen says the hall has answered
  var drawn = null;       // what the case list shows now

  CH.phoneComplaint = {
    init: function (c) {
      ctx = c;
      forgetOld();
      remembered = read();
      CH.$("#complainOpen").addEventListener("click", open);
      CH.$("#complainCancel").addEventListener("click", close);
      CH.$("#complainForm").addEventListener("submit", submit);
      renderTopics();
      renderFiled();
      renderCases();
    },
    take: function (t) { ticket = t; renderCases(); },
    remember: function (c) { keep(c); renderCases(); if (ctx.reload) ctx.reload(); },
    relabel: function () { renderTopics(); renderFiled(); renderCases(); }
  };

  /* ---------- the complaint ---------- */

  function open() {
    CH.$("#complainOpen").hidden = true;
    CH.$("#complained").hidden = true;
    CH.$("#complainForm").hidden = false;
    CH.$("#complainMsg").textContent = "";
    CH.$("#complainForm").scrollIntoView({ block: "start" });
  }

  function close() {
    topics = {};
    CH.$("#complainText").value = "";
    CH.$("#complainContact").value = "";
    CH.$("#complainForm").hidden = true;
    CH.$("#complainOpen").hidden = false;
    renderTopics();
    renderFiled();
  }

  function renderTopics() {
    var box = CH.clear(CH.$("#topics"));
    TOPICS.forEach(function (k) {
      box.appendChild(CH.el("button", {
        type: "button", class: "chip", "data-topic": k, "aria-pressed": topics[k] ? "true" : "false",
        onclick: function () { topics[k] = !topics[k]; CH.$("#complainMsg").textContent = ""; renderTopics(); }
      }, [CH.el("span", { class: "tick", "aria-hidden": "true", text: topics[k] ? "✓" : "" }), CH.t(k)]));
    });
  }

  /* The text sent: the topics touched, then what was written, in the page's language. */
  function composed() {
    var chosen = TOPICS.filter(function (k) { return topics[k]; }).map(function (k) { return CH.t(k); });
    var typed = CH.$("#complainText").value.trim();
    if (!chosen.length) return typed;
    return chosen.join(CH.t("topic_sep")) + (typed ? CH.t("topic_colon") + typed : "");
  }

  function submit(e) {
    e.preventDefault();
    if (sending) return;
    var text = composed();
    var contact = CH.phoneNumber(CH.$("#complainContact").value);
    var msg = CH.$("#complainMsg");
    if (!text) { msg.textContent = CH.t("complain_need"); return; }
    if (contact === false) { msg.textContent = CH.t("contact_bad"); return; }
    var body = { text: text, ticket: ctx.id, key: ctx.key };
    if (contact) body.contact = contact;
    sending = true;
    CH.$("#complainSubmit").disabled = true;
    msg.textContent = CH.t("sending");
    CH.api("POST", "/api/complaints", body, null).then(function (res) {
      sending = false;
      CH.$("#complainSubmit").disabled = false;
      if (res.ok && res.data && res.data.complaint) {
        var c = res.data.complaint;
        filed = { id: c.follow_up || c.id, due_at: c.due_at };
        if (c.follow_up) keep({ id: c.follow_up, kind: "complaint", due_at: c.due_at });
        close();
        renderCases();
        if (ctx.reload) ctx.reload();
        return;
      }
      msg.textContent = res.status === 429 ? CH.tooFast(res) : CH.errorText(res);
    });
  }

  function renderFiled() {
    var box = CH.$("#complained");
    box.hidden = !filed;
    if (!filed) return;
    CH.clear(box);
    box.appendChild(CH.el("strong", { text: CH.t("complained", { id: filed.id }) }));
    var date = CH.phoneDate(filed.due_at);
    box.appendChild(CH.el("span", { text: date ? CH.t("complained_due", { date: date }) : CH.t("complained_soon") }));
    CH.$("#complainOpen").textContent = CH.t("complain_again");
  }

  /* "请 3 分钟后再试": a 429's wait (the error's retry_after, in seconds) in words */
  CH.tooFast = function (res) {
    var s = res && res.error && typeof res.error.retry_after === "number" ? Math.ceil(res.error.retry_after) : null;
    if (s === null) return CH.t("too_fast");
    return s >= 60 ? CH.t("too_fast_min", { n: Math.ceil(s / 60) }) : CH.t("too_fast_s", { n: s });
  };

  /* ---------- the cases, and how they were handled ---------- */

  /* The server's word on each case first; what this phone filed and the server has not listed yet after. */
  function cases() {
    var fromServer = ticket && Array.isArray(ticket.follow_ups) ? ticket.follow_ups : [];
    var listed = {};
    var out = fromServer.map(function (c) {
      var mine = remembered.filter(function (r) { return r.id === c.id; })[0];
      var sat = c.satisfaction && typeof c.satisfaction === "object" ? c.satisfaction.result : c.satisfaction;
      var answered = typeof c.answered === "boolean" ? c.answered : c.handled;
      listed[c.id] = true;
      return { id: c.id, kind: c.kind || (mine && mine.kind) || null, due_at: c.due_at, state: c.state,
        handled: typeof answered === "boolean" ? answered : undefined, result: sat || (mine && mine.result) || null };
    });
    return out.concat(remembered.filter(function (r) { return !listed[r.id]; }));
  }

  // Redrawn only when what it shows changes: the ticket is read again often (every
  // queue.changed), and a button replaced under a thumb would lose its touch.
  function renderCases(force) {
    var list = cases();
    var seen = JSON.stringify([list, asked, revealed, CH.lang]);
    if (seen === drawn && !force) return;
    drawn = seen;
    var box = CH.$("#handling");
    box.hidden = !list.length;
    var out = CH.clear(CH.$("#handlingList"));
    list.forEach(function (c) {
      var date = CH.phoneDate(c.due_at);
      var row = CH.el("div", { class: "case", "data-case": c.id }, [
        CH.el("div", { class: "case-line" }, [
          CH.el("strong", { text: CH.t(c.kind === "complaint" ? "case_complaint" : c.kind === "rating" ? "case_rating" : "case_any", { id: c.id }) }),
          CH.el("span", { text: c.result ? CH.t("handling_done", { result: CH.t("result_" + c.result) }) :
            c.state === "closed" ? CH.t("case_closed") : date ? CH.t("case_due", { date: date }) : "" })
        ])
      ]);
      // The server says whether the hall has answered (fixed or explained). Without its
      // word, the citizen who has heard back says so with one more touch.
      if (!c.result && (c.handled === true || (c.handled === undefined && revealed[c.id]))) {
        row.appendChild(CH.el("p", { class: "case-ask", text: CH.t("handling_ask") }));
        row.appendChild(CH.el("div", { class: "results" }, RESULTS.map(function (r) {
          return CH.el("button", { type: "button", "data-result": r, onclick: function () { rate(c, r, row); } }, [CH.t("result_" + r)]);
        })));
      } else if (!c.result && c.handled === undefined) {
        row.appendChild(CH.el("button", { type: "button", class: "case-heard", onclick: function () { revealed[c.id] = true; renderCases(); } },
          [CH.t("handling_heard")]));
      }
      row.appendChild(CH.el("div", { class: "msg error", role: "alert", text: asked[c.id] || "" }));
      out.appendChild(row);
    });
  }

  function rate(c, result, row) {
    row.querySelectorAll("[data-result]").forEach(function (b) { b.disabled = true; });
    CH.api("POST", "/api/follow-ups/" + encodeURIComponent(c.id) + "/satisfaction", { key: ctx.key, result: result }, null).then(function (res) {
      if (res.ok) {
        asked[c.id] = "";
        keep({ id: c.id, kind: c.kind, due_at: c.due_at, result: result });
        if (ctx.reload) ctx.reload();
      } else {
        asked[c.id] = res.status === 429 ? CH.tooFast(res) : CH.errorText(res);
      }
      renderCases(true);  // its buttons were disabled while it was sent
    });
  }

  /* ---------- kept on this phone ---------- */

  function store() { try { return window.localStorage || null; } catch (e) { return null; } }
  function read() {
    var s = store();
    try {
      var v = s && JSON.parse(s.getItem(PREFIX + ctx.id) || "null");
      return v && Array.isArray(v.cases) ? v.cases : [];
    } catch (e) { return []; }
  }
  function keep(c) {
    var list = remembered.filter(function (r) { return r.id !== c.id; });
    var before = remembered.filter(function (r) { return r.id === c.id; })[0];
    list.push({ id: c.id, kind: c.kind, due_at: c.due_at || (before && before.due_at) || null, result: c.result || (before && before.result) || null });
    remembered = list;
    var s = store();
    try { if (s) s.setItem(PREFIX + ctx.id, JSON.stringify({ at: Date.now(), cases: list })); } catch (e) { /* this visit only */ }
  }
  function forgetOld() {
    var s = store();
    if (!s) return;
    try {
      for (var i = s.length - 1; i >= 0; i--) {
        var k = s.key(i);
        if (!k || k.indexOf(PREFIX) !== 0) continue;
        var v = JSON.parse(s.getItem(k) || "null");
        if (!v || !v.at || Date.now() - v.at > CASE_KEEP_DAYS * 86400000) s.removeItem(k);
      }
    } catch (e) { /* nothing to tidy */ }
  }
})();
