/* Supervisor dashboard, the 好差评 panel: today's and this month's figures
 * (GET /api/ratings/figures) — visits, counts per level, the seven rates of the
 * national rules, the cases opened in the period and not closed, and a table by
 * window or by staff member — and below them how forwarding to the provincial
 * platform stands (GET /api/ratings/forwarding).
 *
 * Numbers a supervisor can trust: every rate is shown with the counts it is
 * made of, "好评率 92.3%（12/13）", computed here from those counts, and "—"
 * when there is nothing to divide. The definitions are the server's
 * (docs/haochaping.md#the-figures).
 *
 * Part of /supervisor: loaded before supervisor.js, which starts it through
 * S.parts. Read at the start, every 30 s, and shortly after a rating, a
 * finished ticket or a case event. Also gives the other parts S.when (an
 * instant on the hall's clock) and S.refreshFigures. */
(function () {
  "use strict";
  var CH = window.CH;
  var S = CH.supervisor = CH.supervisor || {};

  var STUCK_MS = 10 * 60 * 1000;   // an item waiting longer than this to be forwarded is shown in red
  var LEVELS = [5, 4, 3, 2, 1];
  var EVENTS = ["rating.received", "ticket.finished", "follow_up.opened", "follow_up.changed", "follow_up.overdue"];

  var figs = { today: null, month: null };   // the `figures` of GET /api/ratings/figures
  var figError = null;
  var forwarding = null, fwdError = null;     // GET /api/ratings/forwarding's answer
  var range = "today", by = "window";
  var seq = 0;                                // answers to an older read are dropped

  /* [key, label, the counts a rate is made of: [part, whole]] */
  var RATES = [
    ["good", "r_good", function (c) { return [c.good, c.rated]; }],
    ["bad", "r_bad", function (c) { return [c.bad, c.rated]; }],
    ["unrated", "r_unrated", function (c) { return [c.unrated, c.finished]; }],
    ["active", "r_active", function (c) { return [personGood(c), c.by_person]; }],
    ["reply", "r_reply", function (c) { return [c.replied, c.bad]; }],
    ["fix", "r_fix", function (c) { return [c.fixed, c.bad]; }],
    ["sat", "r_sat", function (c) { return [c.satisfied, c.satisfaction_answers]; }]
  ];

  document.querySelectorAll("#pHaochaping [data-range]").forEach(function (b) {
    b.addEventListener("click", function () { range = b.getAttribute("data-range"); renderFigures(); });
  });
  document.querySelectorAll("#pHaochaping [data-by]").forEach(function (b) {
    b.addEventListener("click", function () { by = b.getAttribute("data-by"); renderFigures(); });
  });

  /* The good ratings given by a person (4–5, not default ones). The answer has
   * the rate and `by_person`; with no default ratings they are simply `good`. */
  function personGood(c) {
    if (typeof c.person_good === "number") return c.person_good;
    if (!c["default"]) return c.good;
    return Math.round((c.active_good_rate || 0) * (c.by_person || 0));
  }

  /* 12, 13 → "92.3%"; 1, 1 → "100%"; 0, 0 → "—" (nothing to divide) */
  function pct(part, whole) {
    if (!whole) return "—";
    return Math.round(part / whole * 1000) / 10 + "%";
  }

  /* An instant on the hall's clock as the server wrote it: "09:15" today, "11-29 09:15" another day. */
  function when(iso) {
    var day = (iso || "").slice(0, 10);
    if (!day) return "";
    var p = CH.hallParts(CH.hallNow());
    var today = p.year + "-" + CH.pad2(p.month) + "-" + CH.pad2(p.day);
    return (day === today ? "" : day.slice(5) + " ") + S.hallTime(iso);
  }
  S.when = when;

  /* ---------- reading ---------- */

  function refreshFigures() {
    if (!S.session()) return Promise.resolve();
    var mine = ++seq;
    return S.api("GET", "/api/ratings/figures").then(function (res) {
      if (mine !== seq) return null;
      if (!res.ok || !res.data || !res.data.figures) {
        if (res.status !== 401) figError = res.status === 404 ? CH.t("hcp_missing") : CH.t("hcp_failed", { msg: CH.errorText(res) });
        renderFigures();
        return null;
      }
      figs.today = res.data.figures;
      figError = null;
      renderFigures();
      var to = figs.today.to;   // the hall's today: this month is from its first day
      return S.api("GET", "/api/ratings/figures?from=" + to.slice(0, 8) + "01&to=" + to).then(function (m) {
        if (mine !== seq) return;
        if (m.ok && m.data && m.data.figures) figs.month = m.data.figures;
        else if (m.status !== 401) figError = CH.t("hcp_failed", { msg: CH.errorText(m) });
        renderFigures();
      });
    });
  }

  function refreshForwarding() {
    if (!S.session()) return Promise.resolve();
    return S.api("GET", "/api/ratings/forwarding").then(function (res) {
      if (res.ok && res.data) { forwarding = res.data; fwdError = null; }
      else if (res.status !== 401) {
        forwarding = null;
        fwdError = res.status === 404 ? CH.t("fwd_missing") : CH.t("fwd_failed", { msg: CH.errorText(res) });
      }
      renderForwarding();
    });
  }

  function refresh() { refreshFigures(); refreshForwarding(); }
  var refreshLater = CH.debounce(refresh, 800);
  S.refreshFigures = refreshLater;

  /* ---------- the figures ---------- */

  function renderFigures() {
    document.querySelectorAll("#pHaochaping [data-range]").forEach(function (b) {
      b.setAttribute("aria-selected", String(b.getAttribute("data-range") === range));
    });
    document.querySelectorAll("#pHaochaping [data-by]").forEach(function (b) {
      b.setAttribute("aria-selected", String(b.getAttribute("data-by") === by));
    });
    CH.$("#hcpMsg").textContent = figError || "";
    CH.$("#hcpWho").textContent = CH.t(by === "window" ? "col_window" : "col_staff");
    var visits = CH.clear(CH.$("#hcpVisits")), levels = CH.clear(CH.$("#hcpLevels"));
    var rates = CH.clear(CH.$("#hcpRates")), rows = CH.clear(CH.$("#hcpRows"));
    var f = figs[range];
    CH.$("#pHaochaping").setAttribute("data-range", range);
    CH.$("#hcpRange").textContent = f ? (f.from === f.to ? f.from : CH.t("hcp_range", { from: f.from, to: f.to })) : "";
    if (!f) { if (!figError) visits.textContent = CH.t("loading"); return; }
    var t = f.total;

    visits.appendChild(CH.el("span", { text: CH.t("hcp_visits", { finished: t.finished, rated: t.rated, unrated: t.unrated }) }));
    if (t["default"]) visits.appendChild(CH.el("span", { class: "aside", text: CH.t("hcp_default", { n: t["default"] }) }));
    if (t.excluded) visits.appendChild(CH.el("span", { class: "aside", text: CH.t("hcp_excluded", { n: t.excluded }) }));

    LEVELS.forEach(function (n) {
      var count = (t.levels || {})[String(n)] || 0;
      levels.appendChild(CH.el("div", { class: "level l" + n + (count ? "" : " zero"), "data-level": n }, [
        CH.el("span", { class: "l-word", text: CH.t("rate_" + n) }),
        CH.el("b", { class: "l-n", text: String(count) })
      ]));
    });

    RATES.forEach(function (r) {
      var of = r[2](t);
      rates.appendChild(CH.el("div", { class: "rate", "data-rate": r[0] }, [
        CH.el("span", { class: "r-label", title: CH.t(r[1]), text: CH.t(r[1]) }),
        CH.el("b", { class: "r-val", text: pct(of[0], of[1]) }),
        CH.el("span", { class: "r-of", text: CH.t("of", { part: of[0], whole: of[1] }) })
      ]));
    });
    var late = t.overdue_cases || 0, todo = (t.open_cases || 0) + late;
    rates.appendChild(CH.el("div", {
      role: "button", tabindex: "0", class: "rate cases" + (late ? " late" : ""), "data-rate": "cases", title: CH.t("hcp_cases_note"),
      onclick: function () { location.hash = "#cases"; },
      onkeydown: function (e) { if (e.key === "Enter") location.hash = "#cases"; }
    }, [
      CH.el("span", { class: "r-label", text: CH.t("r_cases") }),
      CH.el("b", { class: "r-val", text: CH.t("hcp_todo", { n: todo }) }),
      CH.el("span", { class: "r-of", text: CH.t("hcp_overdue", { n: late }) })
    ]));

    var list = by === "window" ? f.windows || [] : f.staff || [];
    if (!list.length) {
      rows.appendChild(CH.el("tr", { class: "empty" }, [CH.el("td", { colspan: "7", text: CH.t("hcp_none") })]));
      return;
    }
    list.forEach(function (c) {
      var who = by === "window" ? CH.t("window_n", { n: c.window }) : (c.staff.name || c.staff.username);
      var key = by === "window" ? { "data-window": c.window } : { "data-staff": c.staff.username };
      var cl = (c.open_cases || 0) + (c.overdue_cases || 0);
      rows.appendChild(CH.el("tr", key, [
        CH.el("td", { class: "who", text: who }),
        CH.el("td", { class: "n", "data-f": "finished", text: String(c.finished) }),
        CH.el("td", { class: "n", "data-f": "rated", text: String(c.rated) }),
        rateCell("good", c.good, c.rated),
        CH.el("td", { class: "n" + (c.bad ? " bad" : ""), "data-f": "bad", text: String(c.bad) }),
        rateCell("unrated", c.unrated, c.finished),
        CH.el("td", { class: "n" + (c.overdue_cases ? " bad" : ""), "data-f": "cases", text: cl + "/" + (c.overdue_cases || 0) })
      ]));
    });
  }

  function rateCell(name, part, whole) {
    return CH.el("td", { class: "n", "data-f": name }, [
      CH.el("span", { class: "r-val", text: pct(part, whole) }),
      whole ? CH.el("span", { class: "r-of", text: CH.t("of", { part: part, whole: whole }) }) : null
    ]);
  }

  /* ---------- forwarding to the provincial platform ---------- */

  function renderForwarding() {
    var box = CH.clear(CH.$("#forwarding"));
    var label = CH.el("b", { class: "fwd-label", text: CH.t("fwd_label") });
    function show(state, parts) {
      box.setAttribute("data-state", state);
      box.appendChild(label);
      parts.forEach(function (p) { if (p) box.appendChild(typeof p === "string" ? CH.el("span", { text: p }) : p); });
    }
    if (fwdError) { show("error", [fwdError]); return; }
    if (!forwarding) { show("loading", [CH.t("loading")]); return; }
    var c = forwarding.counts || {}, o = forwarding.oldest_pending;
    var sent = c.sent || 0, waiting = (c.pending || 0) + (c.sending || 0);
    var configured = forwarding.configured !== undefined ? forwarding.configured : forwarding.enabled;
    // A hall that forwards puts every rating in the outbox as it is given; one
    // that does not never has anything there. The answer may say which it is.
    if (configured === false || (configured === undefined && !sent && !waiting && !o)) {
      show("off", [CH.t(configured === false ? "fwd_off" : "fwd_off_maybe")]);
      return;
    }
    var age = o ? CH.hallNow().getTime() - Date.parse(o.created_at) : 0;
    var stuck = !!o && age > STUCK_MS;
    var oldest = null;
    if (o) {
      oldest = CH.el("div", { class: "fwd-oldest" }, [
        CH.t("fwd_oldest", { what: CH.t("fwd_" + o.kind, { id: o.id }), t: when(o.created_at), n: o.attempts || 0 }) +
          (stuck ? " · " + CH.t("fwd_stuck", { m: Math.floor(age / 60000) }) : ""),
        o.last_error ? CH.el("div", { class: "fwd-err", title: o.last_error, text: CH.t("fwd_error", { e: o.last_error }) }) : null
      ]);
    }
    show(stuck ? "stuck" : waiting ? "pending" : "ok", [CH.t("fwd_counts", { sent: sent, pending: waiting }), oldest]);
  }

  (S.parts = S.parts || []).push({
    start: function () { figs = { today: null, month: null }; forwarding = null; refresh(); },
    render: function () { renderFigures(); renderForwarding(); },
    tick: refresh,
    event: function (msg) { if (EVENTS.indexOf(msg.event) >= 0) refreshLater(); }
  });
})();
