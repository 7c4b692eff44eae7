/* Supervisor dashboard, printers and print jobs: a card per printer with its
 * state (red when it cannot print, amber when paper runs low), the failed and
 * queued jobs, each of which can be cancelled, and a printer's receipt preview.
 *
 * Part of /supervisor: loaded before supervisor.js, which starts the dashboard;
 * both share CH.supervisor (the session, `api` and the summary come from there).
 * Printers and jobs are read over HTTP when the dashboard asks (refreshPrinting);
 * a printer.changed event updates its card at once (takePrinter). */
(function () {
  "use strict";
  var CH = window.CH;
  var S = CH.supervisor = CH.supervisor || {};

  var BAD_STATES = ["paper_out", "offline", "cover_open"];
  var WARN_STATES = ["paper_near_end"];

  var printers = null;             // null: not read yet
  var printersError = null;
  var jobs = [];
  var previewUrl = null;

  CH.$("#previewClose").addEventListener("click", function () { CH.$("#previewDlg").close(); });
  CH.$("#previewDlg").addEventListener("close", dropPreview);
  CH.$("#printersRefresh").addEventListener("click", refreshPrinting);

  function refreshPrinting() {
    if (!S.session()) return Promise.resolve();
    var a = S.api("GET", "/api/printers").then(function (res) {
      if (res.ok && res.data && Array.isArray(res.data.printers)) { printers = res.data.printers; printersError = null; }
      else if (res.status !== 401) printersError = res.status === 404 ? CH.t("printers_missing") : CH.errorText(res);
      renderPrinters();
      S.renderSummary();
    });
    var b = Promise.all([S.api("GET", "/api/print-jobs?status=failed"), S.api("GET", "/api/print-jobs?status=queued")]).then(function (rs) {
      var list = [];
      rs.forEach(function (r) { if (r.ok && r.data && Array.isArray(r.data.jobs)) list = list.concat(r.data.jobs); });
      list.sort(function (x, y) { return (y.id || 0) - (x.id || 0); });
      jobs = list;
      renderJobs();
    });
    return Promise.all([a, b]);
  }

  /* A printer.changed event: its printer's new facts, shown at once. */
  function takePrinter(changed) {
    if (!changed || !printers) return;
    printers.forEach(function (p) {
      if (p.name === changed.name) Object.keys(changed).forEach(function (k) { p[k] = changed[k]; });
    });
    renderPrinters();
  }

  /* How many printers cannot print (bad) or soon will not (warn), for the summary. */
  function printerAlerts() {
    return {
      bad: (printers || []).filter(function (p) { return BAD_STATES.indexOf(p.state) >= 0; }).length,
      warn: (printers || []).filter(function (p) { return WARN_STATES.indexOf(p.state) >= 0; }).length
    };
  }

  function stateClass(state) {
    if (BAD_STATES.indexOf(state) >= 0) return "bad";
    if (WARN_STATES.indexOf(state) >= 0) return "warn";
    if (state === "ready") return "ok";
    return "unknown";
  }

  function renderPrinters() {
    var box = CH.clear(CH.$("#printers"));
    if (printersError) { box.appendChild(CH.el("div", { class: "msg error", text: printersError })); return; }
    if (printers === null) { box.appendChild(CH.el("div", { class: "empty", text: CH.t("loading") })); return; }
    if (!printers.length) { box.appendChild(CH.el("div", { class: "empty", text: CH.t("printers_none") })); return; }
    printers.forEach(function (p) {
      var cls = stateClass(p.state);
      var facts = [p.kiosk ? CH.t("printer_kiosk", { k: p.kiosk }) : null, p.paper, p.mode ? CH.t("mode_" + p.mode) : null]
        .filter(Boolean).join(" · ");
      var jobsLine = p.jobs ? CH.t("printer_jobs", { q: p.jobs.queued || 0, f: p.jobs.failed || 0 }) : "";
      var card = CH.el("div", { class: "printer " + cls, "data-printer": p.name, "data-state": p.state }, [
        CH.el("div", { class: "p-head" }, [
          CH.el("b", { class: "p-name", text: p.name }),
          CH.el("span", { class: "p-state", text: CH.t("pstate_" + p.state) === "pstate_" + p.state ? p.state : CH.t("pstate_" + p.state) })
        ]),
        CH.el("div", { class: "p-facts", text: facts }),
        CH.el("div", { class: "p-addr", text: p.address || "" }),
        p.agent_connected === false ? CH.el("div", { class: "p-err", text: CH.t("agent_gone") }) : null,
        p.last_error && cls !== "ok" ? CH.el("div", { class: "p-err", text: p.last_error }) : null,
        CH.el("div", { class: "p-foot" }, [
          CH.el("span", { class: "p-since", text: p.changed_at ? CH.t("since", { t: S.hallTime(p.changed_at) }) : "" }),
          CH.el("span", { class: "p-jobs", text: jobsLine }),
          CH.el("button", { type: "button", class: "btn tiny", "data-preview": p.name, text: CH.t("preview"), onclick: function () { showPreview(p.name); } })
        ])
      ]);
      box.appendChild(card);
    });
  }

  function renderJobs() {
    var ul = CH.clear(CH.$("#jobs"));
    if (!jobs.length) { ul.appendChild(CH.el("li", { class: "empty", text: CH.t("jobs_none") })); return; }
    jobs.forEach(function (j) {
      var number = (j.ticket && j.ticket.number) || "";
      ul.appendChild(CH.el("li", { "data-job": j.id, class: "job " + j.status }, [
        CH.el("div", { class: "j-main" }, [
          CH.el("b", { text: number }),
          j.reprint ? CH.el("span", { class: "tag", text: CH.t("reprint_tag") }) : null,
          CH.el("span", { class: "j-status " + j.status, text: CH.t("jstatus_" + j.status) }),
          CH.el("span", { class: "j-meta", text: [j.printer, S.hallTime(j.created_at), CH.t("attempts", { n: j.attempts || 0 })].filter(Boolean).join(" · ") })
        ]),
        j.last_error ? CH.el("div", { class: "j-err", text: j.last_error, title: j.last_error }) : null,
        CH.el("button", { type: "button", class: "btn tiny", "data-cancel": j.id, text: CH.t("cancel_job"), onclick: function (e) { cancelJob(j, e.currentTarget); } })
      ]));
    });
  }

  function cancelJob(job, btn) {
    btn.disabled = true;
    S.api("POST", "/api/print-jobs/" + job.id + "/cancel", {}).then(function (res) {
      var m = CH.$("#printMsg");
      if (!res.ok) { btn.disabled = false; m.className = "msg error"; m.textContent = CH.errorText(res); return; }
      m.className = "msg ok";
      m.textContent = CH.t("job_cancelled", { n: (job.ticket && job.ticket.number) || job.id });
      refreshPrinting();
    });
  }

  /* The preview PNG needs the bearer token, which an <img src> cannot send:
   * fetch it, and show the blob through an object URL. */
  function showPreview(name) {
    var dlg = CH.$("#previewDlg");
    var img = CH.$("#previewImg");
    CH.$("#previewTitle").textContent = CH.t("preview_title", { name: name });
    CH.$("#previewMsg").textContent = CH.t("loading");
    dropPreview();
    img.hidden = true;
    if (!dlg.open) dlg.showModal();
    fetch("/api/printers/" + encodeURIComponent(name) + "/preview.png", {
      headers: { "Authorization": "Bearer " + S.session().token }, cache: "no-store"
    }).then(function (resp) {
      if (resp.status === 401) { dlg.close(); S.expired(); return null; }
      if (!resp.ok) {
        return resp.json().then(function (d) { throw new Error((d && d.error && d.error.message) || resp.status); },
          function () { throw new Error(String(resp.status)); });
      }
      return resp.blob();
    }).then(function (blob) {
      if (!blob) return;
      previewUrl = URL.createObjectURL(blob);
      img.src = previewUrl;
      img.alt = CH.t("preview_title", { name: name });
      img.hidden = false;
      CH.$("#previewMsg").textContent = "";
    }, function (err) {
      CH.$("#previewMsg").textContent = CH.t("preview_failed", { msg: err && err.message || "" });
    });
  }
  function dropPreview() {
    if (previewUrl) { URL.revokeObjectURL(previewUrl); previewUrl = null; }
  }

  S.refreshPrinting = refreshPrinting;
  S.takePrinter = takePrinter;
  S.printerAlerts = printerAlerts;
  S.renderPrinters = renderPrinters;
  S.renderJobs = renderJobs;
})();
