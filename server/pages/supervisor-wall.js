/* The wall screen (数据大屏, /supervisor/wall) for the hall director's office: a
 * 1920×1080 dark screen read from across the room, turning by itself through
 * four panels — the day (totals and waits by hour), satisfaction by window,
 * cards and signals, and the queue now — live on the socket.
 *
 * It shows staff names and figures, so it needs a supervisor's log-in (a
 * display device's token is refused by the APIs it reads); the log-in is the
 * dashboard's own (sessionStorage "clearhall.supervisor"), so the dashboard's
 * 大屏 link opens it without asking again, and it lasts for the browser tab.
 *
 * Address parameters: ?rotate=SECONDS between panels (default 15, 0 = stay),
 * ?panel=day|satisfaction|integrity|queue to start on, ?lang=en. Keys: ← →
 * turn, space holds, L switches language. Data: the /ws snapshot and
 * queue.changed (the queue); GET /api/stats/hourly, /api/ratings/figures,
 * /api/cards and /api/signals for today, read at the start, every 30 s and
 * shortly after an event that changes them. The charts are CH.charts'
 * (supervisor-charts.js), drawn large and dark. */
(function () {
  "use strict";
  var CH = window.CH;
  CH.page = "supervisor";

  var STORE_KEY = "clearhall.supervisor";
  var PANELS = ["day", "satisfaction", "integrity", "queue"];
  var EVENTS = /^(ticket\.|rating\.received|card\.issued|follow_up\.)/;
  var params = new URLSearchParams(location.search);
  var rotateS = params.has("rotate") ? Math.max(0, Number(params.get("rotate")) || 0) : 15;
  var current = Math.max(0, PANELS.indexOf(params.get("panel")));
  var held = false;

  var session = load();
  var live = null, timers = [];
  var queue = { services: [], windows: [] };
  var hourly = null, figs = null, cards = null, signals = null;
  var missing = {};                // endpoint → true when this server lacks it (404)

  CH.applyStrings();
  CH.onlang = function () { renderAll(); };
  document.querySelectorAll("[data-action='lang']").forEach(function (b) { b.addEventListener("click", CH.toggleLang); });
  CH.$("#loginForm").addEventListener("submit", onLogin);
  window.addEventListener("resize", CH.debounce(function () { show(current); }, 200));
  document.addEventListener("keydown", function (e) {
    if ((e.target && e.target.tagName) === "INPUT") return;
    if (e.key === "ArrowRight") show(current + 1);
    else if (e.key === "ArrowLeft") show(current - 1);
    else if (e.key === " ") { held = !held; e.preventDefault(); }
    else if (e.key === "l" || e.key === "L") CH.toggleLang();
  });
  route();

  /* ---------- the log-in (the dashboard's) ---------- */

  function load() { try { return JSON.parse(sessionStorage.getItem(STORE_KEY) || "null"); } catch (e) { return null; } }
  function save() {
    try { if (session) sessionStorage.setItem(STORE_KEY, JSON.stringify(session)); else sessionStorage.removeItem(STORE_KEY); } catch (e) { /* private mode */ }
  }

  function route() {
    CH.$("#loginView").hidden = !!session;
    CH.$("#wallView").hidden = !session;
    if (session) start(); else setTimeout(function () { CH.$("#username").focus(); }, 0);
  }

  function onLogin(e) {
    e.preventDefault();
    var msg = CH.$("#loginMsg");
    msg.textContent = "";
    CH.api("POST", "/api/login", { username: CH.$("#username").value.trim(), password: CH.$("#password").value }).then(function (res) {
      if (!res.ok) { msg.textContent = CH.t("login_failed", { msg: CH.errorText(res) }); return; }
      var staff = res.data.staff || {};
      CH.$("#password").value = "";
      if (["supervisor", "admin"].indexOf(staff.role) < 0) {
        CH.api("POST", "/api/logout", {}, res.data.token);
        msg.textContent = CH.t("wall_need_supervisor", { name: staff.name || staff.username || "" });
        return;
      }
      session = { token: res.data.token, staff: staff };
      save();
      route();
    });
  }

  function expired() {
    stop();
    session = null; save();
    route();
    CH.$("#loginMsg").textContent = CH.t("session_expired");
  }

  function stop() {
    if (live) { live.close(); live = null; }
    timers.forEach(clearInterval); timers = [];
  }

  function api(path) {
    if (!session) return Promise.resolve({ ok: false, status: 401 });
    return CH.api("GET", path, null, session.token).then(function (res) {
      if (res.status === 401 && session) expired();
      return res;
    });
  }

  /* ---------- running ---------- */

  function start() {
    stop();
    CH.readHall(session.token).then(function (res) {
      if (res.ok && res.data && res.data.hall) CH.$("#hallName").textContent = res.data.hall.name || "";
      tickClock();
      CH.fitText(CH.$("#hallName"), 24);
      refresh();
    });
    live = new CH.Live("token=" + encodeURIComponent(session.token), {
      poll: function () {
        return api("/api/queue").then(function (res) { if (res.ok) takeQueue(res.data); return res.ok; });
      },
      onstatus: function (s) {
        CH.$("#offline").hidden = s !== "offline";
        CH.$("#live").setAttribute("data-state", s);
        CH.$("#live").textContent = CH.t("live_" + s);
        if (s === "unauthorized") expired();
      },
      onstate: function (state) { takeQueue(state); if (state.type === "snapshot") refresh(); },
      onevent: function (msg) { if (EVENTS.test(msg.event)) refreshLater(); }
    });
    timers.push(setInterval(refresh, 30000), setInterval(tickClock, 10000));
    if (rotateS > 0) timers.push(setInterval(function () { if (!held) show(current + 1); }, rotateS * 1000));
    show(current);
  }

  function tickClock() { CH.$("#clock").textContent = CH.clockText(); }

  function todayText() {
    var p = CH.hallParts(CH.hallNow());
    return p.year + "-" + CH.pad2(p.month) + "-" + CH.pad2(p.day);
  }

  function refresh() {
    var d = todayText();
    var read = function (name, path, take) {
      return api(path).then(function (res) {
        missing[name] = res.status === 404;
        if (res.ok && res.data) take(res.data);
      });
    };
    Promise.all([
      read("hourly", "/api/stats/hourly", function (data) { hourly = data; }),
      read("figures", "/api/ratings/figures", function (data) { figs = data.figures || null; }),
      read("cards", "/api/cards?from=" + d + "&to=" + d, function (data) {
        cards = (data.cards || []).slice().sort(function (a, b) { return String(b.at).localeCompare(String(a.at)); });
      }),
      read("signals", "/api/signals?from=" + d + "&to=" + d, function (data) { signals = data.signals || []; })
    ]).then(function () { if (session) renderAll(); });
  }
  var refreshLater = CH.debounce(refresh, 2000);

  function takeQueue(data) {
    if (!data) return;
    if (Array.isArray(data.services)) queue.services = data.services;
    if (Array.isArray(data.windows)) queue.windows = data.windows;
    if (PANELS[current] === "queue") renderQueue();
  }

  /* ---------- the panels ---------- */

  function show(i) {
    current = (i + PANELS.length) % PANELS.length;
    var name = PANELS[current];
    document.querySelectorAll(".w-panel").forEach(function (p) { p.hidden = p.getAttribute("data-panel") !== name; });
    CH.$("#stage").setAttribute("data-panel", name);
    renderAll();
  }

  function renderAll() {
    if (!session) return;
    var name = PANELS[current];
    CH.$("#panelTitle").textContent = CH.t("wall_panel_" + name);
    var dots = CH.clear(CH.$("#dots"));
    PANELS.forEach(function (p, i) { dots.appendChild(CH.el("span", { class: "w-dot" + (i === current ? " on" : "") })); });
    var liveEl = CH.$("#live");
    liveEl.textContent = CH.t("live_" + (liveEl.getAttribute("data-state") || "connecting"));
    tickClock();
    CH.fitText(CH.$("#hallName"), 24);   // the bar's other words change with the panel and language
    if (name === "day") renderDay();
    else if (name === "satisfaction") renderSatisfaction();
    else if (name === "integrity") renderIntegrity();
    else renderQueue();
  }

  function theme() { return CH.charts.theme(Math.max(24, Math.round(window.innerHeight / 40)), true); }

  function draw(id, option, note) {
    var msg = CH.$("#" + id + "Note");
    if (!window.echarts) note = CH.t("ch_no_echarts");
    msg.textContent = note || "";
    msg.hidden = !note;
    if (!option || !window.echarts) return;
    var chart = CH.charts.chart(CH.$("#" + id));
    chart.setOption(option, true);
    chart.resize();
  }

  /* A big number with its label; `value` a text, or [number, unit] with the unit smaller.
   * A value too wide for its tile is made smaller (never under 24 px), not cut. */
  function kpi(box, key, value, cls) {
    var val = CH.el("b", { class: "w-k-val" }, Array.isArray(value) ? [value[0], CH.el("small", { text: value[1] })] : [value]);
    box.appendChild(CH.el("div", { class: "w-kpi " + (cls || ""), "data-kpi": key }, [
      CH.el("span", { class: "w-k-label", text: CH.t("wall_kpi_" + key) }), val
    ]));
    CH.fitText(val, 24);
  }
  function mins(s) { return s === null || s === undefined ? "—" : CH.charts.minutes(s); }
  function gone(name) { return missing[name] ? CH.t("wall_none_yet") : CH.t("loading"); }

  function renderDay() {
    var box = CH.clear(CH.$("#dayKpis")), t = (hourly && hourly.total) || {}, f = figs && figs.total;
    var n = function (v) { return hourly ? String(v || 0) : "—"; };
    kpi(box, "issued", n(t.issued)); kpi(box, "finished", n(t.finished)); kpi(box, "waiting", n(t.waiting), "warm");
    kpi(box, "avg_wait", hourly ? mins(t.avg_wait_s) : "—"); kpi(box, "p90_wait", hourly ? mins(t.p90_wait_s) : "—");
    kpi(box, "good", f ? CH.charts.pct(f.good, f.rated) : "—", "good");
    if (!hourly) { draw("wallHourly", null, gone("hourly")); return; }
    draw("wallHourly", CH.charts.hourly(hourly, theme()), t.issued || t.called ? "" : CH.t("ch_none_day"));
  }

  function renderSatisfaction() {
    var box = CH.clear(CH.$("#satKpis")), f = figs && figs.total;
    kpi(box, "good", f ? CH.charts.pct(f.good, f.rated) : "—", "good big");
    kpi(box, "rated", f ? CH.t("wall_of", { part: f.rated, whole: f.finished }) : "—");
    kpi(box, "bad", f ? String(f.bad) : "—", f && f.bad ? "bad" : "");
    kpi(box, "cases", f ? String((f.open_cases || 0) + (f.overdue_cases || 0)) : "—", f && f.overdue_cases ? "bad" : "");
    if (!figs) { draw("wallByWindow", null, gone("figures")); return; }
    draw("wallByWindow", CH.charts.satisfaction(figs.windows, "window", theme()), (figs.windows || []).length ? "" : CH.t("ch_none_rated"));
  }

  /* A list filled only with what fits: the rest is counted, never cut off. */
  function fill(ul, items, more) {
    CH.clear(ul);
    var shown = 0;
    for (var i = 0; i < items.length; i++) {
      ul.appendChild(items[i]());
      if (ul.scrollHeight > ul.clientHeight + 1 && shown > 0) { ul.removeChild(ul.lastChild); break; }
      shown++;
    }
    if (shown < items.length) {
      ul.appendChild(CH.el("li", { class: "w-more", text: more(items.length - shown) }));
      while (ul.scrollHeight > ul.clientHeight + 1 && ul.children.length > 2) {
        ul.removeChild(ul.children[ul.children.length - 2]);
        shown--;
        ul.lastChild.textContent = more(items.length - shown);
      }
    }
  }
  function words(w) { return !w ? "" : typeof w === "string" ? w : (w[CH.lang] || w.zh || ""); }
  function named(prefix, key) { return CH.lookup(prefix + key) ? CH.t(prefix + key) : String(key); }
  function empty(text) { return [function () { return CH.el("li", { class: "w-empty", text: text }); }]; }

  function renderIntegrity() {
    var cl = CH.$("#wallCards"), sl = CH.$("#wallSignals");
    var red = (cards || []).filter(function (c) { return c.color === "red"; }).length;
    CH.$("#wallCardCounts").textContent = cards ? CH.t("cards_counts", { red: red, yellow: cards.length - red }) : "";
    CH.$("#wallSignalCount").textContent = signals ? CH.t("signals_count", { n: signals.length }) : "";
    var cardItems = !cards ? empty(gone("cards")) : !cards.length ? empty(CH.t("cards_none")) : cards.map(function (c) {
      return function () {
        var who = [c.window ? CH.t("window_n", { n: c.window }) : null, c.staff ? (c.staff.name || c.staff) : null, c.ticket || null].filter(Boolean).join(" · ");
        return CH.el("li", { class: "w-card-item " + (c.color === "red" ? "red" : "yellow"), "data-card": c.id }, [
          CH.el("div", { class: "w-ci-head" }, [
            CH.el("span", { class: "w-chip", text: CH.t(c.color === "red" ? "card_red" : "card_yellow") }),
            CH.el("b", { text: named("rule_", c.rule) }),
            CH.el("span", { class: "w-time", text: CH.fmtTime(c.at) })
          ]),
          CH.el("div", { class: "w-sub", text: who })
        ]);
      };
    });
    fill(cl, cardItems, function (n) { return CH.t("wall_more", { n: n }); });
    var signalItems = !signals ? empty(gone("signals")) : !signals.length ? empty(CH.t("signals_none")) : signals.map(function (s) {
      return function () {
        return CH.el("li", { class: "w-signal-item", "data-kind": s.kind }, [
          CH.el("div", { class: "w-ci-head" }, [CH.el("span", { class: "w-chip kind", text: named("skind_", s.kind) }), CH.el("b", { text: named("srule_", s.rule) })]),
          CH.el("div", { class: "w-sub", text: words(s.why) })
        ]);
      };
    });
    fill(sl, signalItems, function (n) { return CH.t("wall_more", { n: n }); });
  }

  function renderQueue() {
    var tb = CH.clear(CH.$("#wallServices tbody")), holder = CH.$("#wallServices").parentNode;
    var busiest = queue.services.map(function (s, i) { return [s, i]; })
      .sort(function (a, b) { return (b[0].waiting || 0) - (a[0].waiting || 0) || a[1] - b[1]; });
    var rows = busiest.map(function (pair) {
      var s = pair[0];
      return CH.el("tr", { class: s.waiting ? "" : "quiet", "data-service": s.code }, [
        CH.el("td", {}, [CH.el("b", { class: "w-code", text: s.code }), " " + s.name]),
        CH.el("td", { class: "n big", text: String(s.waiting || 0) }),
        CH.el("td", { class: "n", text: s.waiting ? CH.fmtWait(s.estimated_wait_s) : CH.t("wait_none") })
      ]);
    });
    rows.forEach(function (r) { tb.appendChild(r); });
    // the busiest first; a hall with more services than the screen holds counts the rest
    var fits = function () { return holder.scrollHeight <= holder.clientHeight + 1; };
    if (!fits()) {
      var more = CH.el("tr", { class: "w-more" }, [CH.el("td", { colspan: "3" })]);
      tb.appendChild(more);
      while (!fits() && tb.children.length > 2) tb.removeChild(more.previousSibling);
      more.firstChild.textContent = CH.t("wall_more_services", { n: rows.length - tb.children.length + 1 });
    }
    var box = CH.clear(CH.$("#wallWindows"));
    queue.windows.forEach(function (w) {
      var st = w.status || "closed";
      box.appendChild(CH.el("div", { class: "w-win " + st, "data-window": w.number }, [
        CH.el("div", { class: "w-win-head" }, [CH.el("b", { class: "w-win-n", text: String(w.number) }), CH.el("span", { class: "w-win-st", text: CH.t("status_" + st) })]),
        CH.el("div", { class: "w-win-staff", text: w.staff ? w.staff.name : CH.t("no_staff") }),
        CH.el("div", { class: "w-win-cur", text: w.current ? w.current.number : "—" })
      ]));
    });
  }
})();
