/* Supervisor dashboard, one 差评整改 case (GET /api/follow-ups/{id}): the bad
 * rating (level, reasons, comment, indicators, channel, 办件编号 and the
 * call-back number, which is shown here and nowhere else) or the complaint; the
 * visit (its number and times, and every logged action on it); the steps so
 * far; the citizen's verdict on the handling; and the form to add a step
 * (POST /api/follow-ups/{id}/steps).
 *
 * The form offers the steps the rules allow (domain/follow_up_steps.py): 回访,
 * 整改, 说明 at any time; 申诉 once, for a bad rating; 申诉复核 while an appeal
 * waits — never to the supervisor who recorded it, who is told why; 办结 once
 * there is a call-back and a fix or an explanation and no appeal waits, with
 * what is still missing said beside it. A closed case takes no more steps. A
 * refusal from the server is shown in words (CH.errorText).
 *
 * Part of /supervisor: loaded before supervisor-cases.js, which shows a case
 * (S.showCase) and re-reads it when an event says it changed (S.reloadCase). */
(function () {
  "use strict";
  var CH = window.CH;
  var S = CH.supervisor = CH.supervisor || {};

  var TEXT_KINDS = ["callback", "fix", "explain", "appeal", "appeal_decision"];   // all but close need a text
  var DIMENSIONS = ["attitude", "efficiency", "professionalism", "integrity"];

  var currentId = null;
  var current = null;              // the case shown, as GET /api/follow-ups/{id} gives it
  var error = null;
  var chosen = null;               // the kind of step picked in the form
  var historyOpen = false;         // 办件经过 stays open when the case is drawn again
  var seq = 0;

  CH.$("#stepForm").addEventListener("submit", submit);
  CH.$("#stepUpheld").addEventListener("change", function () { CH.$("#stepMsg").textContent = ""; });

  S.caseId = function () { return currentId; };

  S.showCase = function (id) {
    if (id !== currentId) {
      currentId = id; current = null; error = null; chosen = null;
      clearForm();
      CH.$("#caseMsg").textContent = "";
    }
    render();
    if (id) load();
  };

  /* Read the case shown again (when `id` is it, or whatever it is). */
  S.reloadCase = function (id) { if (currentId && (!id || id === currentId)) load(); };

  function load() {
    var id = currentId, mine = ++seq;
    return S.api("GET", "/api/follow-ups/" + id).then(function (res) {
      if (mine !== seq || id !== currentId) return;
      if (res.ok && res.data && res.data.follow_up) { current = res.data.follow_up; error = null; }
      else if (res.status === 404) { current = null; error = CH.t("case_missing"); }
      else if (res.status !== 401) error = CH.t("case_failed", { msg: CH.errorText(res) });
      render();
    });
  }

  function clearForm() {
    CH.$("#stepText").value = "";
    CH.$("#stepText").classList.remove("invalid");
    CH.$("#stepMsg").textContent = "";
    document.querySelectorAll("#stepUpheld input").forEach(function (i) { i.checked = false; });
  }

  /* ---------- the case ---------- */

  function render() {
    var was = CH.$("#caseDetail details.c-history");
    historyOpen = !!was && was.open && CH.$("#caseDetail").getAttribute("data-case") === String(currentId);
    var box = CH.clear(CH.$("#caseDetail"));
    var form = CH.$("#stepForm");
    document.querySelectorAll("#caseRows tr[data-case]").forEach(function (tr) {
      tr.classList.toggle("picked", Number(tr.getAttribute("data-case")) === currentId);
    });
    form.hidden = true;
    box.removeAttribute("data-case");
    box.removeAttribute("data-state");
    if (!currentId) { box.appendChild(CH.el("p", { class: "empty pick", text: CH.t("case_pick") })); return; }
    if (error) { box.appendChild(CH.el("p", { class: "msg error", text: error })); return; }
    if (!current) { box.appendChild(CH.el("p", { class: "empty", text: CH.t("loading") })); return; }
    var c = current;
    box.setAttribute("data-case", c.id);
    box.setAttribute("data-state", c.state);
    box.appendChild(CH.el("div", { class: "c-head" }, [
      CH.el("h2", { text: CH.t("case_heading", { id: c.id }) + " · " + CH.t("kind_" + c.kind) }),
      S.statePill(c.state)
    ]));
    box.appendChild(CH.el("div", { class: "c-facts" }, [
      CH.el("span", { text: CH.t("case_about", {
        w: c.window ? CH.t("window_n", { n: c.window }) : CH.t("case_no_window"),
        staff: c.staff ? c.staff.name : CH.t("case_no_staff")
      }) }),
      CH.el("span", { text: CH.t("case_opened", { t: S.when(c.opened_at) }) }),
      CH.el("span", { class: "c-due" + (c.state === "overdue" ? " late" : ""), text: CH.t("case_due", { t: S.when(c.due_at) }) }),
      c.closed_at ? CH.el("span", { text: CH.t("case_closed_at", { t: S.when(c.closed_at) }) }) : null
    ]));
    box.appendChild(c.rating ? ratingPart(c) : complaintPart(c));
    box.appendChild(visitPart(c));
    box.appendChild(stepsPart(c));
    if (c.state === "closed") box.appendChild(CH.el("p", { class: "c-final", text: CH.t("case_final") }));
    else renderForm(c);
  }

  function facts(rows) {
    return CH.el("dl", { class: "c-dl" }, rows.filter(Boolean).reduce(function (out, r) {
      return out.concat([CH.el("dt", { text: r[0] }), CH.el("dd", { class: r[2] || "" }, [].concat(r[1]))]);
    }, []));
  }

  function contactRow(c) {
    return [CH.t("case_contact"), c.contact ?
      [CH.el("b", { class: "contact", text: c.contact }), CH.el("span", { class: "aside", text: CH.t("case_contact_note") })] :
      CH.t("case_no_contact")];
  }

  function ratingPart(c) {
    var r = c.rating, dims = r.dimensions || {};
    var given = DIMENSIONS.filter(function (d) { return dims[d]; }).map(function (d) {
      return CH.t("dim_" + d) + " " + CH.t("rate_" + dims[d]);
    });
    return CH.el("section", { class: "c-part c-rating" }, [
      CH.el("h3", { text: CH.t("case_rating") }),
      CH.el("div", { class: "c-score s" + r.score, text: CH.t("case_score", { words: CH.t("rate_" + r.score), n: r.score }) }),
      r.excluded ? CH.el("p", { class: "c-excluded", text: CH.t("case_excluded") }) : null,
      facts([
        (r.reasons || []).length ? [CH.t("case_reasons"), (r.reasons || []).join("、"), "reasons"] : null,
        r.comment ? [CH.t("case_comment"), r.comment, "comment"] : null,
        given.length ? [CH.t("case_dims"), given.join(" · ")] : null,
        [CH.t("case_channel"), CH.t("chan_" + r.channel) + " · " + S.when(r.rated_at)],
        [CH.t("case_number"), r.case_number || CH.t("case_nothing")],
        contactRow(c)
      ])
    ]);
  }

  function complaintPart(c) {
    var k = c.complaint || {};
    return CH.el("section", { class: "c-part c-complaint" }, [
      CH.el("h3", { text: CH.t("case_complaint") }),
      CH.el("p", { class: "c-text", text: k.text || "" }),
      facts([[CH.t("time_complaint"), S.when(k.created_at)], contactRow(c)])
    ]);
  }

  /* The visit: its number and service, its times, and everything logged on it. */
  function visitPart(c) {
    var history = c.history || [];
    var first = function (actions) {
      var h = history.filter(function (x) { return actions.indexOf(x.action) >= 0; });
      return h.length ? h[0].at : null;
    };
    var finished = history.filter(function (x) { return x.action === "finish"; }).pop();
    var number = c.rating ? c.rating.ticket : (c.complaint && c.complaint.ticket);
    var service = c.rating ? c.rating.service : null;
    var named = (S.queue.services || []).filter(function (s) { return s.code === service; })[0];
    var times = [["time_issue", first(["issue"])], ["time_call", first(["call_next", "call"])],
      ["time_finish", finished && finished.at], ["time_rate", c.rating && c.rating.rated_at]]
      .filter(function (t) { return t[1]; })
      .map(function (t) { return CH.t(t[0]) + " " + S.when(t[1]); });
    return CH.el("section", { class: "c-part c-visit" }, [
      CH.el("h3", { text: CH.t("case_visit") }),
      CH.el("div", { class: "c-ticket" }, [
        number ? CH.el("b", { class: "c-number", text: CH.t("case_ticket", { n: number }) }) : CH.t("case_no_ticket"),
        service ? CH.el("span", { text: service + (named ? " " + named.name : "") }) : null,
        times.length ? CH.el("span", { class: "c-times", text: times.join(" · ") }) : null
      ]),
      history.length ? CH.el("details", { class: "c-history", open: historyOpen ? "open" : null }, [
        CH.el("summary", { text: CH.t("case_count", { what: CH.t("case_history"), n: history.length }) }),
        CH.el("ol", {}, history.map(function (h) {
          return CH.el("li", {}, [
            CH.el("span", { class: "a-time", text: S.when(h.at) }), " ",
            CH.el("b", { text: actionText(h.action) }), " ",
            h.window ? CH.t("window_n", { n: h.window }) + " " : "",
            CH.el("span", { class: "a-who", text: h.actor || "" }),
            h.reason ? CH.el("div", { class: "a-reason", text: h.reason }) : null
          ]);
        }))
      ]) : null
    ]);
  }

  function actionText(action) {
    return CH.lookup("act_" + action) ? CH.t("act_" + action) : action;
  }

  function stepsPart(c) {
    var steps = c.steps || [];
    var appeal = steps.filter(function (s) { return s.kind === "appeal"; })[0];
    return CH.el("section", { class: "c-part c-steps" }, [
      CH.el("h3", { text: CH.t("case_steps") }),
      steps.length ? CH.el("ol", { class: "steps" }, steps.map(function (s) {
        return CH.el("li", { "data-kind": s.kind }, [
          CH.el("div", { class: "s-line" }, [
            CH.el("b", { class: "s-kind", text: CH.t("step_" + s.kind) }),
            CH.el("span", { class: "s-who", text: (s.by && s.by.name) || "" }),
            CH.el("span", { class: "s-time", text: S.when(s.at) })
          ]),
          s.kind === "appeal_decision" ? CH.el("div", { class: "s-decision " + (s.upheld ? "upheld" : "rejected"),
            text: CH.t(s.upheld ? "decision_upheld" : "decision_rejected") }) : null,
          s.text ? CH.el("div", { class: "s-text", text: s.text }) : null
        ]);
      })) : CH.el("p", { class: "empty", text: CH.t("case_no_steps") }),
      c.appeal === "pending" && appeal ? CH.el("p", { class: "c-appeal", text: CH.t("appeal_by", { name: appeal.by.name }) }) : null,
      CH.el("p", { class: "c-sat" }, [CH.t("case_sat"),
        CH.el("b", { text: c.satisfaction ? CH.t("sat_" + c.satisfaction.result) : CH.t("case_sat_none") })])
    ]);
  }

  /* ---------- adding a step ---------- */

  function mine(step) {
    var me = S.session() && S.session().staff;
    return !!step && !!me && step.by && step.by.username === me.username;
  }

  /* Why the case cannot close yet, or null. */
  function closeBlocked(c, done) {
    if (c.appeal === "pending") return CH.t("close_appeal_pending");
    if (!done.callback || !(done.fix || done.explain)) return CH.t("close_needs");
    return null;
  }

  function renderForm(c) {
    var steps = c.steps || [], done = {};
    steps.forEach(function (s) { done[s.kind] = true; });
    var appeal = steps.filter(function (s) { return s.kind === "appeal"; })[0];
    var ownAppeal = c.appeal === "pending" && mine(appeal);
    var blocked = closeBlocked(c, done);
    var kinds = ["callback", "fix", "explain"];
    if (c.kind === "rating" && c.appeal === "none") kinds.push("appeal");
    if (c.appeal === "pending" && !ownAppeal) kinds.push("appeal_decision");
    kinds.push("close");
    if (kinds.indexOf(chosen) < 0 || (chosen === "close" && blocked)) chosen = null;

    var box = CH.clear(CH.$("#stepKinds"));
    kinds.forEach(function (k) {
      var off = k === "close" && !!blocked;
      var input = CH.el("input", { type: "radio", name: "stepKind", value: k, disabled: off ? "disabled" : null });
      input.checked = k === chosen;
      input.addEventListener("change", function () { chosen = k; CH.$("#stepMsg").textContent = ""; renderChoice(); });
      box.appendChild(CH.el("label", { class: "kind k-" + k + (off ? " off" : ""), "data-kind": k, title: off ? blocked : null },
        [input, CH.el("span", { text: CH.t("step_" + k) })]));
    });

    var need = CH.clear(CH.$("#stepNeed"));
    need.appendChild(CH.el("div", { class: "close-need" + (blocked ? "" : " ready") }, [
      CH.t("close_have", { cb: CH.t(done.callback ? "mark_yes" : "mark_no"), fx: CH.t(done.fix || done.explain ? "mark_yes" : "mark_no") }),
      " — ", CH.el("b", { text: blocked || CH.t("close_ready") })
    ]));
    if (ownAppeal) need.appendChild(CH.el("div", { class: "appeal-own", id: "appealOwn", text: CH.t("appeal_own") }));
    else if (c.kind !== "rating") need.appendChild(CH.el("div", { class: "aside", text: CH.t("appeal_ratings_only") }));
    CH.$("#stepForm").hidden = false;
    renderChoice();
  }

  function renderChoice() {
    var text = CH.$("#stepText");
    CH.$("#stepUpheld").hidden = chosen !== "appeal_decision";
    CH.$("#stepTextLabel").textContent = CH.t(chosen === "close" ? "step_text_close" : "step_text");
    text.placeholder = chosen && chosen !== "close" ? CH.t("ph_" + chosen) : "";
    CH.$("#stepSave").textContent = CH.t(chosen === "close" ? "step_save_close" : "step_save");
    CH.$("#stepSave").disabled = !chosen;
  }

  function submit(e) {
    e.preventDefault();
    var msg = CH.$("#stepMsg"), area = CH.$("#stepText"), c = current;
    msg.textContent = "";
    area.classList.remove("invalid");
    if (!c) return;
    if (!chosen) { msg.textContent = CH.t("step_need_kind"); return; }
    var kind = chosen, body = { kind: kind }, text = area.value.trim();
    if (text) body.text = text;
    if (TEXT_KINDS.indexOf(kind) >= 0 && !text) { msg.textContent = CH.t("step_need_text"); area.classList.add("invalid"); area.focus(); return; }
    if (kind === "appeal_decision") {
      var picked = CH.$("#stepUpheld input:checked");
      if (!picked) { msg.textContent = CH.t("step_need_upheld"); return; }
      body.upheld = picked.value === "true";
    }
    CH.$("#stepSave").disabled = true;
    S.api("POST", "/api/follow-ups/" + c.id + "/steps", body).then(function (res) {
      CH.$("#stepSave").disabled = false;
      if (!res.ok) {
        msg.textContent = CH.errorText(res);
        if (res.error && res.error.field === "text") area.classList.add("invalid");
        if (res.status === 403 || res.status === 409) S.reloadCase(c.id);   // the case moved on meanwhile
        return;
      }
      if (c.id !== currentId) return;
      current = res.data && res.data.follow_up ? res.data.follow_up : current;
      chosen = null;
      clearForm();
      var done = CH.$("#caseMsg");
      done.className = "msg ok";
      done.textContent = CH.t("step_saved", { kind: CH.t("step_" + kind) });
      render();
      S.casesChanged(current);
    });
  }

  (S.parts = S.parts || []).push({ render: render });
})();
