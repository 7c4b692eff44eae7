/* 好差评 on the phone page (CONTRACT §7): after the service, within the hall's
 * `rate_within_days` of the finish (GET /api/ratings/rules), the five levels.
 *
 * - A level of 3–5 is one touch: it is sent at once with the ticket's key. The
 *   four indicators and a comment are optional extras, folded away above the
 *   levels ("分项评价和意见"), sent only when the citizen filled them in first.
 * - A 差评 (1–2) asks why: the hall's `bad_reasons` as toggles, a comment, an
 *   optional call-back phone; the server wants a reason or a comment. The
 *   thanks says the case will be followed up, by its due date.
 * - The first rating wins: rated at the pad (rating.closed, or `rated` in the
 *   ticket) the form gives way to "已评价，谢谢"; a 409 (rated meanwhile, or
 *   past the days allowed) is told apart by reading the ticket again.
 * Loaded before phone.js, which starts it (CH.phoneRating.init). */
(function () {
  "use strict";
  var CH = window.CH;
  var DIMS = ["efficiency", "professionalism", "attitude", "integrity"];
  var DAY_MS = 86400000;
  var ctx = null;       // {id, key, reload(), onCase(case)} from phone.js
  var ticket = null, rules = null;
  var rated = false, submitting = false, periodOver = false;
  var thanks = null;    // {key, due, contact}: what the box says once rated here
  var dims = {};        // the indicators chosen, before the level
  var bad = null;       // {score, reasons: {}} while the 差评 form is up

  CH.phoneRating = {
    init: function (c) {
      ctx = c;
      CH.$("#rateForm").addEventListener("submit", function (e) { e.preventDefault(); });
      CH.$("#badForm").addEventListener("submit", submitBad);
      CH.$("#badBack").addEventListener("click", function () { bad = null; render(); });
      build();
      CH.api("GET", "/api/ratings/rules", null, null).then(function (res) {
        if (res.ok && res.data) { rules = res.data; build(); render(); if (bad) renderBad(); }
      });
    },
    take: function (t) { ticket = t; if (t.rated || t.rating) rated = true; render(); },
    /* rating.closed for this ticket: rated at the pad. Our own rating's answer, if on its way, says it instead. */
    closed: function () { if (!rated && !submitting) { rated = true; render(); } },
    relabel: function () { build(); render(); if (bad) renderBad(); },
    isRated: function () { return rated; }
  };

  function known() { return rules && Array.isArray(rules.bad_reasons) ? rules.bad_reasons : []; }

  function pastPeriod() {
    if (!rules || typeof rules.rate_within_days !== "number" || !ticket || !ticket.finished_at) return false;
    var at = Date.parse(ticket.finished_at);
    return !isNaN(at) && Date.now() - at > rules.rate_within_days * DAY_MS;
  }

  function render() {
    var box = CH.$("#rating");
    box.hidden = !ticket || ticket.status !== "done";
    if (box.hidden) return;
    var over = !rated && (periodOver || pastPeriod());
    var asking = !rated && !over;
    CH.$("#rateForm").hidden = !asking || !!bad;
    CH.$("#badForm").hidden = !asking || !bad;
    CH.$("#rateOver").hidden = !over;
    if (over) CH.$("#rateOver").textContent = CH.t("rate_over", { days: rules ? rules.rate_within_days : "" });
    var t = box.querySelector(".thanks");
    if (rated) {
      if (!t) { t = CH.el("div", { class: "thanks", role: "status" }); box.appendChild(t); }
      t.textContent = thanksText();
    } else if (t) {
      box.removeChild(t);
    }
  }

  function thanksText() {
    if (!thanks) return CH.t("rate_closed");
    if (thanks.key !== "rated_bad") return CH.t(thanks.key);
    var date = CH.phoneDate(thanks.due);
    if (!date) return CH.t("rated_bad");
    return CH.t(thanks.contact ? "rated_bad_call" : "rated_bad_due", { date: date });
  }

  /* ---------- the levels and the optional indicators ---------- */

  function build() {
    document.querySelectorAll("#rateForm .scores").forEach(function (box) {
      var dim = box.getAttribute("data-dim");
      var overall = dim === "score";
      if (!overall && rules && Array.isArray(rules.dimensions) && rules.dimensions.indexOf(dim) < 0) {
        box.parentNode.hidden = true;  // an indicator this server does not take
        return;
      }
      CH.clear(box);
      [5, 4, 3, 2, 1].forEach(function (n) {
        box.appendChild(CH.el("button", {
          type: "button", "data-score": n, "aria-pressed": overall ? null : (dims[dim] === n ? "true" : "false"),
          "aria-label": overall ? null : CH.t("dim_score", { dim: CH.t("dim_" + dim), n: n }),
          title: CH.t("rate_" + n),
          onclick: function () { if (overall) level(n); else { dims[dim] = dims[dim] === n ? undefined : n; build(); } }
        }, overall ? [CH.el("span", { class: "stars", "aria-hidden": "true", text: "★".repeat(n) }), CH.el("span", { class: "word", text: CH.t("rate_" + n) })]
          : [String(n), CH.el("span", { class: "star1", "aria-hidden": "true", text: "★" })]));
      });
    });
  }

  function chosenDims() {
    var out = null;
    DIMS.forEach(function (d) { if (dims[d]) { out = out || {}; out[d] = dims[d]; } });
    return out;
  }

  function level(n) {
    if (submitting || rated) return;
    CH.$("#rateMsg").textContent = "";
    if (n <= 2) {
      bad = { score: n, reasons: {} };
      CH.$("#badComment").value = CH.$("#comment").value;
      CH.$("#contact").value = "";
      CH.$("#badMsg").textContent = "";
      render();
      renderBad();
      CH.$("#rating").scrollIntoView({ block: "start" });
      return;
    }
    var body = { score: n };
    var comment = CH.$("#comment").value.trim();
    if (comment) body.comment = comment;
    send(body, CH.$("#rateMsg"));
  }

  /* ---------- a 差评 ---------- */

  // Drawn when it opens and when a reason is touched, never on a re-read of the
  // ticket: a button replaced under a thumb would lose its touch.
  function renderBad() {
    CH.$("#whyTitle").textContent = CH.t("why_title", { level: CH.t("rate_" + bad.score) });
    CH.$("#whySub").textContent = CH.t(known().length ? "why_sub" : "why_sub_none");
    var box = CH.clear(CH.$("#reasons"));
    box.hidden = !known().length;
    known().forEach(function (r) {
      box.appendChild(CH.el("button", {
        type: "button", class: "chip", "data-reason": r, "aria-pressed": bad.reasons[r] ? "true" : "false",
        onclick: function () { bad.reasons[r] = !bad.reasons[r]; CH.$("#badMsg").textContent = ""; renderBad(); }
      }, [CH.el("span", { class: "tick", "aria-hidden": "true", text: bad.reasons[r] ? "✓" : "" }), r]));
    });
  }

  function submitBad(e) {
    e.preventDefault();
    if (!bad || submitting) return;
    var reasons = known().filter(function (r) { return bad.reasons[r]; });
    var comment = CH.$("#badComment").value.trim();
    var contact = CH.phoneNumber(CH.$("#contact").value);
    var msg = CH.$("#badMsg");
    if (!reasons.length && !comment) { msg.textContent = CH.t("why_need"); return; }
    if (contact === false) { msg.textContent = CH.t("contact_bad"); return; }
    var body = { score: bad.score, reasons: reasons };
    if (comment) body.comment = comment;
    if (contact) body.contact = contact;
    send(body, msg);
  }

  /* ---------- sending ---------- */

  function lock(on) {
    document.querySelectorAll("#rateForm .scores[data-dim='score'] button, #badSubmit, #badBack").forEach(function (b) { b.disabled = on; });
  }

  function send(body, msgBox) {
    body.ticket = ctx.id;
    body.key = ctx.key;
    var d = chosenDims();
    if (d) body.dimensions = d;  // only what the citizen chose: an untouched indicator is not a score
    submitting = true;
    lock(true);
    msgBox.textContent = CH.t("sending");
    CH.api("POST", "/api/ratings", body, null).then(function (res) {
      submitting = false;
      lock(false);
      if (res.ok) {
        var c = res.data && res.data.rating ? res.data.rating.case : null;
        rated = true;
        bad = null;
        thanks = { key: body.score <= 2 ? "rated_bad" : "rated", due: c ? c.due_at : null, contact: !!body.contact };
        if (c && c.id && ctx.onCase) ctx.onCase({ id: c.id, kind: "rating", due_at: c.due_at });
        render();
        return;
      }
      if (res.status === 409) {  // rated meanwhile (the pad), or past the days a visit may be rated
        msgBox.textContent = "";
        ctx.reload().then(function () {
          if (rated) thanks = { key: "already_rated" };
          else periodOver = true;
          render();
        });
        return;
      }
      msgBox.textContent = CH.errorText(res);
    });
  }

  /* ---------- shared with phone-complaint.js ---------- */

  /* A call-back number as the server takes it: "" for none, false when it cannot be one. */
  CH.phoneNumber = function (value) {
    var s = String(value || "");
    if (s.normalize) s = s.normalize("NFKC");
    s = s.replace(/[\s\-()+.]/g, "");
    if (!s) return "";
    return /^[0-9]{7,15}$/.test(s) ? s : false;
  };

  /* "12月7日（星期一）" / "Monday 7 Dec": a due date as the server wrote it (ISO, the hall's offset). */
  CH.phoneDate = function (iso) {
    var p = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(iso || ""));
    if (!p) return null;
    var d = new Date(Date.UTC(+p[1], +p[2] - 1, +p[3]));
    return CH.t("due_date", { m: +p[2], d: +p[3], mon: d.toLocaleDateString("en-GB", { timeZone: "UTC", month: "short" }),
      wd: d.toLocaleDateString(CH.lang === "en" ? "en-GB" : "zh-CN", { timeZone: "UTC", weekday: "long" }) });
  };
})();
