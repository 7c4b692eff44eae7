/* Supervisor dashboard (/supervisor): a supervisor or admin logs in and watches
 * the hall live — waiting per service, every window, the printers and their
 * failed jobs, the integrity notices (清廉知识上屏, which they manage here) and
 * the action log, with out-of-order calls (指呼) picked out.
 *
 * Live data: one WebSocket (/ws?token=…) gives the queue snapshot, then events;
 * queue.changed carries the whole queue and is taken as it is (/api/queue is
 * read only while the socket is down). Printers, jobs, notices and the log are
 * read over HTTP when an event says they may have changed, and every 30 s. */
(function () {
  "use strict";
  var CH = window.CH;
  CH.page = "supervisor";

  var SUPERVISOR_ROLES = ["supervisor", "admin"];
  var BAD_STATES = ["paper_out", "offline", "cover_open"];
  var WARN_STATES = ["paper_near_end"];
  var STORE_KEY = "clearhall.supervisor";

  var store = window.sessionStorage;
  var session = load();            // {token, staff}
  var live = null;
  var timer = null;
  var queue = { services: [], windows: [], notices: [] };
  var printers = null;             // null: not read yet
  var printersError = null;
  var jobs = [];
  var notices = [];
  var audit = { entries: null, error: null };
  var editing = null;              // the notice being edited, or null for a new one
  var previewUrl = null;

  CH.applyStrings();
  CH.onlang = function () { renderAll(); };
  document.querySelectorAll("[data-action='lang']").forEach(function (b) { b.addEventListener("click", CH.toggleLang); });
  CH.$("#loginForm").addEventListener("submit", onLogin);
  CH.$("#logoutBtn").addEventListener("click", logout);
  CH.$("#noticeAdd").addEventListener("click", function () { openNotice(null); });
  CH.$("#noticeForm").addEventListener("submit", saveNotice);
  CH.$("#noticeCancel").addEventListener("click", function () { CH.$("#noticeDlg").close(); });
  CH.$("#previewClose").addEventListener("click", function () { CH.$("#previewDlg").close(); });
  CH.$("#previewDlg").addEventListener("close", dropPreview);
  CH.$("#auditRefresh").addEventListener("click", refreshAudit);
  CH.$("#printersRefresh").addEventListener("click", refreshPrinting);
  document.addEventListener("keydown", function (e) {
    var tag = (e.target && e.target.tagName) || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || e.ctrlKey || e.metaKey || e.altKey) return;
    if (CH.$("#noticeDlg").open || CH.$("#previewDlg").open) return;
    if (e.key === "l" || e.key === "L") CH.toggleLang();
  });
  route();

  /* ---------- session ---------- */

  function load() {
    try { return JSON.parse(store.getItem(STORE_KEY) || "null"); } catch (e) { return null; }
  }
  function save() {
    try {
      if (session) store.setItem(STORE_KEY, JSON.stringify(session));
      else store.removeItem(STORE_KEY);
    } catch (e) { /* private mode */ }
  }

  function route() {
    CH.$("#loginView").hidden = !!session;
    CH.$("#dashView").hidden = !session;
    if (!session) { setTimeout(function () { CH.$("#username").focus(); }, 0); return; }
    start();
  }

  function isSupervisor(staff) {
    return !!staff && SUPERVISOR_ROLES.indexOf(staff.role) >= 0;
  }

  function onLogin(e) {
    e.preventDefault();
    var msg = CH.$("#loginMsg");
    msg.textContent = "";
    CH.$("#loginBtn").disabled = true;
    CH.api("POST", "/api/login", { username: CH.$("#username").value.trim(), password: CH.$("#password").value }).then(function (res) {
      CH.$("#loginBtn").disabled = false;
      if (!res.ok) {
        msg.textContent = CH.t("login_failed", { msg: res.status === 401 ? (res.error.message || CH.t("err_unauthorized")) : CH.errorText(res) });
        return;
      }
      var token = res.data.token, staff = res.data.staff || {};
      var check = staff.role ? Promise.resolve(isSupervisor(staff)) :
        // a server that does not say the role: ask for something only supervisors may read
        CH.api("GET", "/api/printers", null, token).then(function (r) { return r.status !== 403; });
      check.then(function (allowed) {
        CH.$("#password").value = "";
        if (!allowed) {
          CH.api("POST", "/api/logout", {}, token);   // this log-in is of no use here: end it
          msg.textContent = CH.t("need_supervisor", { name: staff.name || staff.username || "" });
          return;
        }
        session = { token: token, staff: staff };
        save();
        route();
      });
    });
  }

  function logout() {
    var tok = session && session.token;
    stop();
    session = null; save();
    if (tok) CH.api("POST", "/api/logout", {}, tok);
    route();
  }

  function expired() {
    stop();
    session = null; save();
    route();
    CH.$("#loginMsg").textContent = CH.t("session_expired");
  }

  function stop() {
    if (live) { live.close(); live = null; }
    clearInterval(timer); timer = null;
  }

  /* Every API call of the dashboard: a 401 ends the session. */
  function api(method, path, body) {
    if (!session) return Promise.resolve({ ok: false, status: 401, data: null, error: { code: "unauthorized", message: "" } });
    return CH.api(method, path, body, session.token).then(function (res) {
      if (res.status === 401 && session) expired();
      return res;
    });
  }

  /* ---------- the live dashboard ---------- */

  function start() {
    var st = session.staff || {};
    CH.$("#who").textContent = (st.name || st.username || "") + (st.role ? " · " + CH.t("role_" + st.role) : "");
    renderAll();
    refreshPrinting();
    refreshNotices();
    refreshAudit();
    CH.api("GET", "/api/services", null, session.token).then(function (res) {
      if (res.ok && res.data && res.data.hall && res.data.hall.name) CH.$("#hallName").textContent = res.data.hall.name;
    });
    stop();
    live = new CH.Live("token=" + encodeURIComponent(session.token), {
      poll: function () {
        refreshPrinting();
        refreshAuditLater();
        return CH.api("GET", "/api/queue", null, session && session.token).then(function (res) {
          if (res.ok) takeQueue(res.data);
          return res.ok;
        });
      },
      onstatus: function (s) {
        CH.$("#offline").hidden = s !== "offline";
        var el = CH.$("#live");
        el.setAttribute("data-state", s);
        el.textContent = CH.t("live_" + s);
        if (s === "unauthorized") expired();
      },
      onstate: function (state) {
        takeQueue(state);
        if (state.type === "snapshot") { refreshPrintingLater(); refreshAuditLater(); }
      },
      onevent: onEvent
    });
    timer = setInterval(function () { refreshPrinting(); refreshAudit(); }, 30000);
  }

  function onEvent(msg) {
    var ev = msg.event;
    var changed = CH.changedWindow(msg);
    if (changed) {
      queue.windows = queue.windows.map(function (w) { return w.number === changed.number ? changed : w; });
      renderWindows();
      renderSummary();
    }
    if (ev === "printer.changed") {
      if (msg.printer && printers) {
        printers.forEach(function (p) {
          if (p.name === msg.printer.name) Object.keys(msg.printer).forEach(function (k) { p[k] = msg.printer[k]; });
        });
        renderPrinters();
      }
      refreshPrintingLater();
    } else if (ev === "ticket.issued") {
      refreshPrintingLater();
    }
    if (ev === "notice.changed") refreshNotices();
    if (ev !== "queue.changed") refreshAuditLater();
  }

  var refreshPrintingLater = CH.debounce(refreshPrinting, 600);
  var refreshAuditLater = CH.debounce(refreshAudit, 800);

  function takeQueue(data) {
    if (!data) return;
    ["services", "windows", "notices"].forEach(function (k) { if (Array.isArray(data[k])) queue[k] = data[k]; });
    renderServices();
    renderWindows();
    renderNotices();   // "on screen now" comes from the queue's notices
    renderSummary();
  }

  function renderAll() {
    renderServices();
    renderWindows();
    renderPrinters();
    renderJobs();
    renderNotices();
    renderAudit();
    renderSummary();
    var liveEl = CH.$("#live");
    liveEl.textContent = CH.t("live_" + (liveEl.getAttribute("data-state") || "connecting"));
  }

  /* ---------- queue: services and windows ---------- */

  function renderServices() {
    var tb = CH.clear(CH.$("#services"));
    if (!queue.services.length) {
      tb.appendChild(CH.el("tr", { class: "empty" }, [CH.el("td", { colspan: "3", text: CH.t("services_none") })]));
      return;
    }
    queue.services.forEach(function (s) {
      tb.appendChild(CH.el("tr", { "data-service": s.code, class: s.waiting > 0 ? "" : "quiet" }, [
        CH.el("td", {}, [CH.el("b", { class: "code", text: s.code }), " ", s.name]),
        CH.el("td", { class: "n big", text: String(s.waiting || 0) }),
        CH.el("td", { class: "n", text: s.waiting > 0 ? CH.fmtWait(s.estimated_wait_s) : CH.t("wait_none") })
      ]));
    });
  }

  function renderWindows() {
    var tb = CH.clear(CH.$("#windows"));
    if (!queue.windows.length) {
      tb.appendChild(CH.el("tr", { class: "empty" }, [CH.el("td", { colspan: "5", text: CH.t("windows_none") })]));
      return;
    }
    queue.windows.forEach(function (w) {
      var status = w.status || "closed";
      var statusCell = CH.el("td", { class: "st" }, [CH.el("span", { class: "pill " + status, text: CH.t("status_" + status) })]);
      if (status === "paused" && w.pause_reason) statusCell.appendChild(CH.el("span", { class: "reason", text: w.pause_reason, title: w.pause_reason }));
      var staff = w.staff ? CH.el("td", { class: "staff" }, [w.staff.name || "", w.staff.party_member ? CH.el("span", { class: "badge-party", text: CH.t("party_short") }) : null]) :
        CH.el("td", { class: "staff none", text: CH.t("no_staff") });
      var cur = w.current ? CH.el("td", { class: "cur" }, [
        CH.el("b", { text: w.current.number }),
        w.current.status ? CH.el("span", { class: "cur-st", text: CH.t("tstatus_" + w.current.status) }) : null
      ]) : CH.el("td", { class: "cur none", text: "—" });
      tb.appendChild(CH.el("tr", { "data-window": w.number, class: "w-" + status }, [
        CH.el("td", { class: "num" }, [CH.el("b", { text: String(w.number) })]),
        statusCell, staff, cur,
        CH.el("td", { class: "svc", text: (w.services || []).join(" ") })
      ]));
    });
  }

  function renderSummary() {
    var box = CH.clear(CH.$("#summary"));
    var waiting = queue.services.reduce(function (n, s) { return n + (s.waiting || 0); }, 0);
    var open = queue.windows.filter(function (w) { return w.status === "open"; }).length;
    var paused = queue.windows.filter(function (w) { return w.status === "paused"; }).length;
    box.appendChild(CH.el("span", { class: "sum" }, [CH.t("sum_waiting") + " ", CH.el("b", { text: String(waiting) })]));
    box.appendChild(CH.el("span", { class: "sum" }, [CH.t("sum_open") + " ", CH.el("b", { text: open + "/" + queue.windows.length })]));
    if (paused) box.appendChild(CH.el("span", { class: "sum" }, [CH.t("sum_paused") + " ", CH.el("b", { text: String(paused) })]));
    var bad = (printers || []).filter(function (p) { return BAD_STATES.indexOf(p.state) >= 0; }).length;
    var warn = (printers || []).filter(function (p) { return WARN_STATES.indexOf(p.state) >= 0; }).length;
    if (bad) box.appendChild(CH.el("span", { class: "alert bad", id: "printerAlert", text: CH.t("sum_printer_bad", { n: bad }) }));
    else if (warn) box.appendChild(CH.el("span", { class: "alert warn", id: "printerAlert", text: CH.t("sum_printer_warn", { n: warn }) }));
  }

  /* ---------- printers and print jobs ---------- */

  function refreshPrinting() {
    if (!session) return Promise.resolve();
    var a = api("GET", "/api/printers").then(function (res) {
      if (res.ok && res.data && Array.isArray(res.data.printers)) { printers = res.data.printers; printersError = null; }
      else if (res.status !== 401) printersError = res.status === 404 ? CH.t("printers_missing") : CH.errorText(res);
      renderPrinters();
      renderSummary();
    });
    var b = Promise.all([api("GET", "/api/print-jobs?status=failed"), api("GET", "/api/print-jobs?status=queued")]).then(function (rs) {
      var list = [];
      rs.forEach(function (r) { if (r.ok && r.data && Array.isArray(r.data.jobs)) list = list.concat(r.data.jobs); });
      list.sort(function (x, y) { return (y.id || 0) - (x.id || 0); });
      jobs = list;
      renderJobs();
    });
    return Promise.all([a, b]);
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
          CH.el("span", { class: "p-since", text: p.changed_at ? CH.t("since", { t: hallTime(p.changed_at) }) : "" }),
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
          CH.el("span", { class: "j-meta", text: [j.printer, hallTime(j.created_at), CH.t("attempts", { n: j.attempts || 0 })].filter(Boolean).join(" · ") })
        ]),
        j.last_error ? CH.el("div", { class: "j-err", text: j.last_error, title: j.last_error }) : null,
        CH.el("button", { type: "button", class: "btn tiny", "data-cancel": j.id, text: CH.t("cancel_job"), onclick: function (e) { cancelJob(j, e.currentTarget); } })
      ]));
    });
  }

  function cancelJob(job, btn) {
    btn.disabled = true;
    api("POST", "/api/print-jobs/" + job.id + "/cancel", {}).then(function (res) {
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
      headers: { "Authorization": "Bearer " + session.token }, cache: "no-store"
    }).then(function (resp) {
      if (resp.status === 401) { dlg.close(); expired(); return null; }
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

  /* ---------- integrity notices (清廉知识上屏) ---------- */

  function refreshNotices() {
    return api("GET", "/api/notices").then(function (res) {
      var m = CH.$("#noticeMsg");
      if (res.ok && res.data && Array.isArray(res.data.notices)) {
        notices = res.data.notices;
        if (m.classList.contains("error")) { m.textContent = ""; m.className = "msg"; }
      } else if (res.status !== 401) { m.className = "msg error"; m.textContent = CH.errorText(res); }
      renderNotices();
    });
  }

  function onScreenNow(n) {
    return (queue.notices || []).some(function (q) { return q.id === n.id; });
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
    api(wasEditing ? "PUT" : "POST", wasEditing ? "/api/notices/" + wasEditing.id : "/api/notices", body).then(function (res) {
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
    api("DELETE", "/api/notices/" + n.id).then(function (res) {
      var m = CH.$("#noticeMsg");
      if (!res.ok) { btn.disabled = false; m.className = "msg error"; m.textContent = CH.errorText(res); return; }
      m.className = "msg ok";
      m.textContent = CH.t("notice_deleted", { title: n.title });
      refreshNotices();
    });
  }

  /* ---------- the action log ---------- */

  function refreshAudit() {
    return api("GET", "/api/audit-log?limit=50").then(function (res) {
      if (res.ok && res.data && Array.isArray(res.data.entries)) audit = { entries: res.data.entries, error: null };
      else if (res.status === 404) audit = { entries: null, error: CH.t("audit_missing") };
      else if (res.status !== 401) audit = { entries: audit.entries, error: CH.t("audit_failed", { msg: CH.errorText(res) }) };
      renderAudit();
    });
  }

  function actorText(e) {
    if (e.actor_kind === "staff") return e.actor_name || CH.t("actor_staff");
    if (e.actor_kind === "device") return CH.t("actor_device", { name: e.actor_name || "" });
    if (e.actor_kind === "citizen") return CH.t("actor_citizen");
    if (e.actor_kind === "system") return CH.t("actor_system");
    return e.actor_name || e.actor_kind || "";
  }

  function actionText(action) {
    var key = "act_" + action;
    var t = CH.t(key);
    return t === key ? action : t;
  }

  function renderAudit() {
    CH.$("#auditMsg").textContent = audit.error || "";
    var ol = CH.clear(CH.$("#audit"));
    if (!audit.entries) { if (!audit.error) ol.appendChild(CH.el("li", { class: "empty", text: CH.t("loading") })); return; }
    if (!audit.entries.length) { ol.appendChild(CH.el("li", { class: "empty", text: CH.t("audit_none") })); return; }
    var newestDay = (audit.entries[0].at || "").slice(0, 10);
    audit.entries.forEach(function (e) {
      var out = e.action === "call";
      var day = (e.at || "").slice(0, 10);
      var line = CH.el("div", { class: "a-line" }, [
        CH.el("span", { class: "a-time", title: e.at || "", text: (day && day !== newestDay ? day.slice(5) + " " : "") + hallTime(e.at, true) }),
        CH.el("span", { class: "a-act", text: actionText(e.action) }),
        e.ticket_number ? CH.el("b", { class: "a-num", text: e.ticket_number }) : null,
        e.window ? CH.el("span", { class: "a-win", text: CH.t("window_n", { n: e.window }) }) : null,
        CH.el("span", { class: "a-who", text: actorText(e) })
      ]);
      var li = CH.el("li", { "data-entry": e.id, "data-action": e.action, class: out ? "out-of-order" : "" }, [line]);
      if (out) {
        li.appendChild(CH.el("div", { class: "a-flag" }, [
          CH.el("b", { text: CH.t("out_of_order") }),
          " " + (!e.rule_ticket_number ? CH.t("rule_none") :
            e.rule_ticket_number === e.ticket_number ? CH.t("rule_same", { n: e.rule_ticket_number }) :
            CH.t("rule_would", { n: e.rule_ticket_number }))
        ]));
      }
      if (e.reason) li.appendChild(CH.el("div", { class: "a-reason", text: CH.t("reason_is", { r: e.reason }) }));
      ol.appendChild(li);
    });
  }

  /* "2026-11-29T10:32:05+08:00" → "10:32" (or "10:32:05"): the hall's own clock,
   * as the server wrote it, whatever the browser's time zone. */
  function hallTime(iso, seconds) {
    var m = /T(\d\d:\d\d)(:\d\d)?/.exec(iso || "");
    if (!m) return "";
    return seconds && m[2] ? m[1] + m[2] : m[1];
  }

  window.clearhallSupervisor = { refreshAudit: refreshAudit, refreshPrinting: refreshPrinting };
})();
