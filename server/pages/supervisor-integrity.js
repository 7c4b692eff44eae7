/* Supervisor dashboard, 电子监察 (/supervisor#integrity): today's red and yellow
 * cards, newest first, each with its rule and its evidence in a dialog
 * (GET /api/cards?from=&to=, pushed as card.issued); today's integrity signals,
 * each with its sentence and the rows that raised it (GET /api/signals); the
 * cases still to do (GET /api/follow-ups, most urgent first; a click opens the
 * case); the report downloads; and 核验记录, which recomputes the integrity
 * log's chain (GET /api/audit/verify) and shows whether it is intact.
 *
 * Downloads: a link cannot send the bearer token, so each report is fetched
 * with it and saved from a blob URL under the server's file name
 * (Content-Disposition). An endpoint this server lacks (404) is "暂无", never
 * an error. Card and signal sentences come from the server in both languages.
 *
 * Part of /supervisor: loaded after supervisor-charts.js (which shows this
 * view for #integrity) and before supervisor.js, which starts it via S.parts. */
(function () {
  "use strict";
  var CH = window.CH;
  var S = CH.supervisor = CH.supervisor || {};

  var CASES_SHOWN = 12;
  var cards = null, cardsError = null, signals = null, signalsError = null, cases = null, casesError = null;
  var verdict = null;              // GET /api/audit/verify's answer, or {error}
  var fresh = {};                  // ids of cards pushed while the view was open: marked new
  var seq = 0;
  var evidenceShown = null;        // draws the evidence dialog again (a language switch while it is open)

  CH.$("#verifyBtn").addEventListener("click", verify);
  CH.$("#evidenceClose").addEventListener("click", function () { CH.$("#evidenceDlg").close(); });
  document.querySelectorAll("#pReports [data-report]").forEach(function (b) {
    b.addEventListener("click", function () { download(b); });
  });

  function showing() { return !CH.$("#integrityView").hidden; }
  function today() {
    var p = CH.hallParts(CH.hallNow());
    return p.year + "-" + CH.pad2(p.month) + "-" + CH.pad2(p.day);
  }
  /* A sentence the server gives in both languages ({zh, en}), or as text. */
  function words(w) { return !w ? "" : typeof w === "string" ? w : (w[CH.lang] || w.zh || ""); }
  function staffName(s) { return !s ? "" : typeof s === "string" ? s : (s.name || s.username || ""); }
  function ticketNo(t) { return !t ? "" : typeof t === "string" ? t : (t.number || ""); }
  /* A word from the table for `key`, else the server's own name for it. */
  function named(prefix, key) { var k = prefix + key; return CH.lookup(k) ? CH.t(k) : String(key); }

  /* ---------- reading ---------- */

  function refresh() {
    if (!S.session() || !showing()) return;
    var mine = ++seq, d = today();
    var read = function (path, take) {
      return S.api("GET", path).then(function (res) { if (mine === seq) take(res); });
    };
    read("/api/cards?from=" + d + "&to=" + d, function (res) {
      if (res.ok && res.data && Array.isArray(res.data.cards)) {
        cards = res.data.cards.slice().sort(function (a, b) { return String(b.at).localeCompare(String(a.at)) || b.id - a.id; });
        cardsError = null;
      } else if (res.status !== 401) { cards = null; cardsError = res.status === 404 ? CH.t("none_yet") : CH.errorText(res); }
      renderCards();
    });
    read("/api/signals?from=" + d + "&to=" + d, function (res) {
      if (res.ok && res.data && Array.isArray(res.data.signals)) { signals = res.data.signals; signalsError = null; }
      else if (res.status !== 401) { signals = null; signalsError = res.status === 404 ? CH.t("none_yet") : CH.errorText(res); }
      renderSignals();
    });
    read("/api/follow-ups?limit=100", function (res) {
      if (res.ok && res.data && Array.isArray(res.data.follow_ups)) {
        cases = res.data.follow_ups.filter(function (c) { return c.state !== "closed"; });
        casesError = null;
      } else if (res.status !== 401) { cases = null; casesError = res.status === 404 ? CH.t("none_yet") : CH.errorText(res); }
      renderCases();
    });
  }
  var refreshLater = CH.debounce(refresh, 800);

  /* ---------- cards ---------- */

  function renderCards() {
    var ul = CH.clear(CH.$("#cards")), counts = CH.$("#cardCounts");
    counts.textContent = "";
    if (!cards) { ul.appendChild(CH.el("li", { class: "empty", text: cardsError || CH.t("loading") })); return; }
    var red = cards.filter(function (c) { return c.color === "red"; }).length;
    counts.textContent = CH.t("cards_counts", { red: red, yellow: cards.length - red });
    if (!cards.length) { ul.appendChild(CH.el("li", { class: "empty", text: CH.t("cards_none") })); return; }
    cards.forEach(function (c) {
      var ev = c.evidence || {};
      var who = [c.window ? CH.t("window_n", { n: c.window }) : null, staffName(c.staff) || null, ticketNo(c.ticket) || null]
        .filter(Boolean).join(" · ");
      ul.appendChild(CH.el("li", { class: "card-item " + (c.color === "red" ? "red" : "yellow") + (fresh[c.id] ? " fresh" : ""), "data-card": c.id, "data-color": c.color }, [
        CH.el("div", { class: "ci-head" }, [
          CH.el("span", { class: "ci-color", text: CH.t(c.color === "red" ? "card_red" : "card_yellow") }),
          CH.el("b", { class: "ci-rule", text: named("rule_", c.rule) }),
          CH.el("span", { class: "ci-time", text: S.when(c.at) })
        ]),
        who ? CH.el("div", { class: "ci-who", text: who }) : null,
        words(ev.sentence) ? CH.el("div", { class: "ci-why", text: words(ev.sentence) }) : null,
        CH.el("button", { type: "button", class: "btn tiny", "data-evidence": c.id, text: CH.t("evidence"), onclick: function () { showCard(c); } })
      ]));
    });
  }

  /* ---------- the evidence dialog (a card's, or a signal's rows) ---------- */

  function when(v) { return typeof v === "string" && /^\d{4}-\d\d-\d\dT/.test(v) ? S.when(v) : v; }
  function cell(v) {
    if (v === null || v === undefined || v === "") return "—";
    if (typeof v === "boolean") return v ? "✓" : "";
    if (typeof v === "object") return Array.isArray(v) ? v.map(cell).join("、") : (v.name || v.number || v.username || JSON.stringify(v));
    return String(when(v));
  }
  /* A table of rows (objects), its columns the keys they have. */
  function table(rows) {
    var cols = [];
    rows.forEach(function (r) { Object.keys(r).forEach(function (k) { if (cols.indexOf(k) < 0 && k !== "type") cols.push(k); }); });
    return CH.el("div", { class: "ev-scroll" }, [CH.el("table", { class: "grid ev-rows" }, [
      CH.el("thead", {}, [CH.el("tr", {}, cols.map(function (k) { return CH.el("th", { text: named("ev_", k) }); }))]),
      CH.el("tbody", {}, rows.map(function (r) {
        return CH.el("tr", {}, cols.map(function (k) {
          return CH.el("td", { text: k === "rule" && typeof r[k] === "string" ? named("rule_", r[k]) : k === "appeal" ? named("appeal_", r[k]) : cell(r[k]) });
        }));
      }))
    ])]);
  }
  function pairs(obj) {
    return CH.el("dl", { class: "ev-pairs" }, Object.keys(obj || {}).reduce(function (out, k) {
      return out.concat([CH.el("dt", { text: named("ev_", k) }), CH.el("dd", { text: cell(obj[k]) })]);
    }, []));
  }
  function filled(obj) { return !!obj && Object.keys(obj).length > 0; }
  function section(key, body) { return CH.el("section", { class: "ev-sec" }, [CH.el("h3", { text: CH.t(key) }), body]); }

  function openEvidence(title, cls, parts) {
    var box = CH.clear(CH.$("#evidenceBody"));
    CH.$("#evidenceTitle").textContent = title;
    CH.$("#evidenceDlg").className = "evidence " + (cls || "");
    parts.forEach(function (p) { if (p) box.appendChild(p); });
    if (!CH.$("#evidenceDlg").open) CH.$("#evidenceDlg").showModal();
  }

  var SHOWN = ["rule", "threshold", "times", "tickets", "entries", "sentence", "yellows"];

  function showCard(c) {
    evidenceShown = function () { showCard(c); };
    var ev = c.evidence || {}, more = {};
    Object.keys(ev).forEach(function (k) { if (SHOWN.indexOf(k) < 0) more[k] = k === "appeal" ? named("appeal_", ev[k]) : ev[k]; });
    openEvidence(CH.t(c.color === "red" ? "card_red" : "card_yellow") + " · " + named("rule_", c.rule), c.color, [
      CH.el("p", { class: "ev-why", text: words(ev.sentence) || named("rule_", c.rule) }),
      pairs({ at: c.at, window: c.window, staff: staffName(c.staff), ticket: ticketNo(c.ticket) }),
      filled(ev.threshold) ? section("evs_threshold", pairs(ev.threshold)) : null,
      filled(ev.times) ? section("evs_times", pairs(ev.times)) : null,
      ev.tickets && ev.tickets.length ? section("evs_tickets", table(ev.tickets)) : null,
      ev.yellows && ev.yellows.length ? section("evs_yellows", table(ev.yellows)) : null,
      filled(more) ? section("evs_more", pairs(more)) : null,
      ev.entries && ev.entries.length ? section("evs_entries", CH.el("p", { class: "ev-entries", text: ev.entries.map(function (e) { return "#" + e; }).join("  ") })) : null,
      c.notes && c.notes.length ? section("evs_notes", CH.el("ul", { class: "ev-notes" }, c.notes.map(function (n) {
        return CH.el("li", { text: S.when(n.at) + " " + staffName(n.by) + "：" + n.text });
      }))) : null
    ]);
  }

  /* ---------- signals ---------- */

  function renderSignals() {
    var ul = CH.clear(CH.$("#signals"));
    CH.$("#signalCount").textContent = signals ? CH.t("signals_count", { n: signals.length }) : "";
    if (!signals) { ul.appendChild(CH.el("li", { class: "empty", text: signalsError || CH.t("loading") })); return; }
    if (!signals.length) { ul.appendChild(CH.el("li", { class: "empty", text: CH.t("signals_none") })); return; }
    signals.forEach(function (s, i) {
      var rows = s.rows || [];
      ul.appendChild(CH.el("li", { class: "signal-item k-" + s.kind, "data-signal": i, "data-kind": s.kind }, [
        CH.el("div", { class: "si-head" }, [
          CH.el("span", { class: "si-kind", text: named("skind_", s.kind) }),
          CH.el("b", { class: "si-rule", text: named("srule_", s.rule) }),
          CH.el("span", { class: "si-time", text: s.from && s.from !== s.to ? s.from + " – " + s.to : s.from === today() ? "" : (s.from || "") })
        ]),
        CH.el("div", { class: "si-why", text: words(s.why) }),
        rows.length ? CH.el("button", { type: "button", class: "btn tiny", "data-rows": i, text: CH.t("signal_rows", { n: s.rows_total || rows.length }),
          onclick: function () { showSignal(s); } }) : null
      ]));
    });
  }

  function showSignal(s) {
    evidenceShown = function () { showSignal(s); };
    var rows = s.rows || [];
    openEvidence(named("skind_", s.kind) + " · " + named("srule_", s.rule), "signal", [
      CH.el("p", { class: "ev-why", text: words(s.why) }),
      filled(s.figures) ? section("evs_figures", pairs(s.figures)) : null,
      filled(s.thresholds) ? section("evs_threshold", pairs(s.thresholds)) : null,
      section("evs_rows", table(rows)),
      s.rows_total > rows.length ? CH.el("p", { class: "hint", text: CH.t("signal_more", { n: s.rows_total - rows.length }) }) : null
    ]);
  }

  /* ---------- cases still to do (the 差评整改 cases' own page has the rest) ---------- */

  function renderCases() {
    var ul = CH.clear(CH.$("#openCases"));
    if (!cases) { ul.appendChild(CH.el("li", { class: "empty", text: casesError || CH.t("loading") })); return; }
    if (!cases.length) { ul.appendChild(CH.el("li", { class: "empty", text: CH.t("open_cases_none") })); return; }
    cases.slice(0, CASES_SHOWN).forEach(function (c) {
      var what = c.rating ? CH.t("rate_" + c.rating.score) + " " + (c.rating.reasons || []).join("、") : (c.complaint ? c.complaint.text : "");
      ul.appendChild(CH.el("li", { class: "oc-item", "data-case": c.id, tabindex: "0",
        onclick: function () { S.openCase(c.id); }, onkeydown: function (e) { if (e.key === "Enter") S.openCase(c.id); } }, [
        S.statePill(c.state),
        CH.el("span", { class: "oc-who", text: [c.window ? CH.t("window_n", { n: c.window }) : null, staffName(c.staff) || null].filter(Boolean).join(" · ") }),
        CH.el("span", { class: "oc-what", text: what }),
        CH.el("span", { class: "oc-due" + (c.state === "overdue" ? " late" : ""), text: CH.t("case_due_short", { t: S.when(c.due_at) }) })
      ]));
    });
    if (cases.length > CASES_SHOWN) ul.appendChild(CH.el("li", { class: "empty", text: CH.t("cases_more", { n: cases.length - CASES_SHOWN }) }));
  }

  /* ---------- 核验记录 ---------- */

  function verify() {
    var btn = CH.$("#verifyBtn");
    btn.disabled = true;
    verdict = { checking: true };
    renderVerdict();
    S.api("GET", "/api/audit/verify").then(function (res) {
      btn.disabled = false;
      if (res.ok && res.data && typeof res.data.ok === "boolean") verdict = res.data;
      else if (res.status !== 401) verdict = { error: res.status === 404 ? CH.t("none_yet") : CH.errorText(res) };
      verdict.checked = CH.clockText(null, true);
      renderVerdict();
    });
  }

  function renderVerdict() {
    var box = CH.clear(CH.$("#verifyResult"));
    if (!verdict) { box.setAttribute("data-state", "idle"); box.textContent = CH.t("verify_idle"); return; }
    if (verdict.checking) { box.setAttribute("data-state", "checking"); box.textContent = CH.t("verify_checking"); return; }
    if (verdict.error) { box.setAttribute("data-state", "error"); box.textContent = CH.t("verify_failed", { msg: verdict.error }); return; }
    var head = String(verdict.head || "").slice(0, 16);
    if (verdict.ok) {
      box.setAttribute("data-state", "ok");
      box.appendChild(CH.el("b", { class: "v-head", text: CH.t("verify_ok") }));
      box.appendChild(CH.el("div", { text: CH.t("verify_ok_detail", { n: verdict.entries, seq: verdict.seq, hash: head || "—" }) }));
    } else {
      var bad = verdict.first_bad || {};
      box.setAttribute("data-state", "bad");
      box.setAttribute("data-bad-seq", bad.seq);
      box.appendChild(CH.el("b", { class: "v-head", text: CH.t("verify_bad", { seq: bad.seq, problem: named("problem_", bad.problem) }) }));
      box.appendChild(CH.el("div", { text: CH.t("problem_note_" + bad.problem) === "problem_note_" + bad.problem ? "" : CH.t("problem_note_" + bad.problem) }));
      box.appendChild(CH.el("div", { class: "v-good", text: CH.t("verify_bad_before", { n: verdict.entries || 0, hash: head || "—" }) }));
    }
    if (verdict.pending) box.appendChild(CH.el("div", { class: "v-pending", text: CH.t("verify_pending", { n: verdict.pending }) }));
    box.appendChild(CH.el("div", { class: "v-when", text: CH.t("verify_when", { t: verdict.checked }) }));
  }

  /* ---------- report downloads ---------- */

  /* The file name of a Content-Disposition: its UTF-8 name (RFC 5987), else the plain one. */
  function fileName(header, fallback) {
    var m = /filename\*=UTF-8''([^;]+)/i.exec(header || "");
    if (m) { try { return decodeURIComponent(m[1]); } catch (e) { /* the plain one, then */ } }
    m = /filename="?([^";]+)"?/i.exec(header || "");
    return m ? m[1] : fallback;
  }

  function download(btn) {
    var kind = btn.getAttribute("data-report"), fmt = btn.getAttribute("data-format"), d = today();
    var path = kind === "daily" ? "/api/reports/daily?day=" + d : "/api/reports/monthly?month=" + d.slice(0, 7);
    var msg = CH.$("#reportMsg");
    msg.className = "msg";
    msg.textContent = CH.t("report_fetching");
    btn.disabled = true;
    fetch(path + "&format=" + fmt, {
      headers: { "Authorization": "Bearer " + S.session().token, "Accept-Language": CH.lang === "en" ? "en" : "zh-CN" }, cache: "no-store"
    }).then(function (resp) {
      if (resp.status === 401) { S.expired(); return null; }
      if (!resp.ok) {
        return resp.json().then(function (d) { throw new Error(resp.status === 404 ? CH.t("none_yet") : (d && d.error && d.error.message) || resp.status); },
          function () { throw new Error(resp.status === 404 ? CH.t("none_yet") : String(resp.status)); });
      }
      var name = fileName(resp.headers.get("Content-Disposition"), kind + "-" + (kind === "daily" ? d : d.slice(0, 7)) + "." + fmt);
      return resp.blob().then(function (blob) { return { blob: blob, name: name }; });
    }).then(function (got) {
      btn.disabled = false;
      if (!got) return;
      var url = URL.createObjectURL(got.blob);
      var a = CH.el("a", { href: url, download: got.name, hidden: "hidden" });
      document.body.appendChild(a);
      a.click();
      setTimeout(function () { URL.revokeObjectURL(url); a.remove(); }, 30000);
      msg.className = "msg ok";
      msg.textContent = CH.t("report_saved", { name: got.name });
    }, function (err) {
      btn.disabled = false;
      msg.className = "msg error";
      msg.textContent = CH.t("report_failed", { msg: err && err.message || "" });
    });
  }

  function renderReports() {
    var d = today();
    CH.$("#reportDay").textContent = CH.t("report_day", { d: d });
    CH.$("#reportMonth").textContent = CH.t("report_month", { m: d.slice(0, 7) });
  }

  function renderAll() { renderCards(); renderSignals(); renderCases(); renderVerdict(); renderReports(); }

  S.onView("integrity", function () { renderAll(); refresh(); });

  (S.parts = S.parts || []).push({
    start: function () { cards = signals = cases = verdict = null; fresh = {}; },
    render: function () {
      if (showing()) renderAll();
      if (CH.$("#evidenceDlg").open && evidenceShown) evidenceShown();
    },
    tick: refresh,
    event: function (msg) {
      if (msg.event === "card.issued") {
        if (msg.card && msg.card.id) fresh[msg.card.id] = true;
        refreshLater();
      } else if (/^follow_up\./.test(msg.event)) refreshLater();
    }
  });
})();
