/* Supervisor dashboard, the charts (/supervisor#charts), drawn with Apache
 * ECharts (/static/vendor/echarts/, vendored; no outside requests):
 *   - waits by hour: tickets issued per hour (bars), and the average and 90th-
 *     percentile wait of the tickets called in each hour (lines), from
 *     GET /api/stats/hourly?day= (the hall's clock hours);
 *   - tickets by service: issued, finished, missed and waiting, same answer;
 *   - satisfaction by window and by staff member: the count per level, and
 *     unrated visits, from GET /api/ratings/figures (the day, or its month).
 * A strip above them gives the day's totals.
 *
 * CH.charts holds the option builders, which the wall screen (supervisor-
 * wall.js) shares: `th` says how large and on what background. Every tooltip
 * is drawn on the canvas (renderMode "richText"): ECharts' HTML tooltips carry
 * inline styles, which the page's Content-Security-Policy refuses.
 *
 * Part of /supervisor: loaded after supervisor-cases.js and before
 * supervisor.js, which starts it through S.parts. This file also shows and
 * hides the views of the dashboard's address (#charts, #integrity), after the
 * cases have shown theirs. Read when the view opens, every 30 s while it shows,
 * and shortly after a ticket or rating event for today. */
(function () {
  "use strict";
  var CH = window.CH;
  var S = CH.supervisor = CH.supervisor || {};
  var C = CH.charts = {};

  var LEVELS = [5, 4, 3, 2, 1];
  var LEVEL_COLORS = { 5: "#1d8a4a", 4: "#86c99a", 3: "#b9c0ca", 2: "#f0a04b", 1: "#c8102e" };
  var UNRATED_COLOR = "#e4e8ee";

  /* ---------- option builders (shared with the wall screen) ---------- */

  /* The look of a chart: `font` px, dark or light. */
  C.theme = function (font, dark) {
    return {
      font: font, dark: !!dark,
      ink: dark ? "#e8edf5" : "#1a1a1a", soft: dark ? "#9fb0c8" : "#6b6b6b",
      line: dark ? "#2c3a52" : "#e3e7ed",
      bars: dark ? "#4f8fe6" : "#0b4f9c", avg: dark ? "#ffd24a" : "#e08a00", p90: dark ? "#ff6b7d" : "#c8102e",
      done: dark ? "#3fc27a" : "#1d8a4a", miss: dark ? "#ff9f43" : "#e08a00", wait: dark ? "#b59cff" : "#6a4fc4",
      unrated: dark ? "#3a4660" : UNRATED_COLOR
    };
  };

  function base(th) {
    return {
      animation: false,
      textStyle: { fontFamily: getComputedStyle(document.body).fontFamily, fontSize: th.font, color: th.ink },
      tooltip: { trigger: "axis", renderMode: "richText", textStyle: { fontSize: th.font }, confine: true },
      legend: { top: 0, textStyle: { color: th.ink, fontSize: th.font }, itemWidth: th.font * 1.2, itemHeight: th.font * 0.7 }
    };
  }
  function axisStyle(th) {
    return {
      axisLabel: { color: th.ink, fontSize: th.font },
      axisLine: { lineStyle: { color: th.soft } },
      splitLine: { lineStyle: { color: th.line } },
      nameTextStyle: { color: th.soft, fontSize: th.font * 0.9 }
    };
  }
  function merge(a, b) { Object.keys(b).forEach(function (k) { a[k] = b[k]; }); return a; }

  /* The hours a day's chart shows: the hall's hours (8–18 for a hall open all
   * day), widened to every hour in which something happened. */
  C.hourSpan = function (day) {
    var first = parseInt(day.opens_at || "08", 10), last = parseInt(day.closes_at || "18", 10);
    if (first === 0 && last >= 23) { first = 8; last = 18; }
    (day.hours || []).forEach(function (h) {
      if (h.issued || h.called || h.finished || h.no_show) { first = Math.min(first, h.hour); last = Math.max(last, h.hour); }
    });
    var out = [];
    for (var h = first; h <= last; h++) out.push(h);
    return out;
  };

  function minutes(s) { return s === null || s === undefined ? null : Math.round(s / 6) / 10; }
  /* A wait for a big number: [figure, unit] — "45 秒", "7.5 分钟", "32 分钟". */
  C.minutes = function (s) {
    if (s < 60) return [String(Math.round(s)), CH.t("ch_sec_unit")];
    return [String(s < 600 ? Math.round(s / 6) / 10 : Math.round(s / 60)), CH.t("ch_min_unit")];
  };

  /* Tickets issued per hour (bars, right axis) and the waits of those called in it (lines, minutes). */
  C.hourly = function (day, th) {
    var hours = C.hourSpan(day), byHour = {};
    (day.hours || []).forEach(function (h) { byHour[h.hour] = h; });
    var pick = function (f) { return hours.map(function (h) { return f(byHour[h] || {}); }); };
    var line = function (name, color, f) {
      return { name: name, type: "line", yAxisIndex: 0, data: pick(f), connectNulls: false, symbolSize: th.font * 0.5,
        lineStyle: { width: th.font / 6, color: color }, itemStyle: { color: color } };
    };
    return merge(base(th), {
      grid: { left: th.font * 3.2, right: th.font * 3, top: th.font * 3.2, bottom: th.font * 2 },
      xAxis: merge({ type: "category", data: hours.map(function (h) { return CH.t("ch_hour", { h: CH.pad2(h) }); }) }, axisStyle(th)),
      yAxis: [
        merge({ type: "value", name: CH.t("ch_minutes"), minInterval: 1 }, axisStyle(th)),
        merge({ type: "value", name: CH.t("ch_tickets"), minInterval: 1, splitLine: { show: false } }, axisStyle(th))
      ],
      series: [
        { name: CH.t("ch_issued"), type: "bar", yAxisIndex: 1, data: pick(function (h) { return h.issued || 0; }),
          itemStyle: { color: th.bars, opacity: 0.55 }, barMaxWidth: th.font * 2 },
        line(CH.t("ch_avg_wait"), th.avg, function (h) { return minutes(h.avg_wait_s); }),
        line(CH.t("ch_p90_wait"), th.p90, function (h) { return minutes(h.p90_wait_s); })
      ]
    });
  };

  /* Issued, finished, missed and waiting per service. */
  C.services = function (day, th) {
    var list = day.services || [];
    var bar = function (name, color, field) {
      return { name: name, type: "bar", data: list.map(function (s) { return s[field] || 0; }), itemStyle: { color: color },
        barMaxWidth: th.font * 1.6, label: { show: list.length <= 8, position: "top", color: th.ink, fontSize: th.font * 0.8,
          formatter: function (p) { return p.value ? String(p.value) : ""; } } };
    };
    return merge(base(th), {
      grid: { left: th.font * 2.6, right: th.font, top: th.font * 3.2, bottom: th.font * 3.6 },
      // the letter, and the name below it, wrapped to the bar's room
      xAxis: merge({ type: "category", data: list.map(function (s) { return s.code + " " + s.name; }),
        axisLabel: { color: th.ink, fontSize: th.font * 0.85, interval: 0, lineHeight: th.font * 1.05,
          formatter: function (v) { return v.replace(" ", "\n"); }, width: th.font * 4.4, overflow: "break" } }, {
        axisLine: { lineStyle: { color: th.soft } } }),
      yAxis: merge({ type: "value", minInterval: 1 }, axisStyle(th)),
      series: [bar(CH.t("ch_issued"), th.bars, "issued"), bar(CH.t("ch_finished"), th.done, "finished"),
        bar(CH.t("ch_no_show"), th.miss, "no_show"), bar(CH.t("ch_waiting"), th.wait, "waiting")]
    });
  };

  /* 92.3% from 12 of 13, "—" from nothing: the 好差评 panel's way. */
  C.pct = function (part, whole) { return whole ? Math.round(part / whole * 1000) / 10 + "%" : "—"; };

  /* A line of the figures, labelled: "3号窗口  92.3%", "徐明  100%". */
  function whoOf(line, by) {
    var who = by === "window" ? CH.t("window_n", { n: line.window }) : (line.staff.name || line.staff.username);
    return who + "  " + C.pct(line.good, line.rated);
  }

  /* The visits of each window (or staff member): the count per level, stacked, and the unrated ones. */
  C.satisfaction = function (lines, by, th) {
    lines = (lines || []).slice().reverse();   // the first at the top
    var levels = function (n) { return function (l) { return (l.levels || {})[String(n)] || 0; }; };
    var stack = function (name, color, f) {
      return { name: name, type: "bar", stack: "v", data: lines.map(f), itemStyle: { color: color }, barMaxWidth: th.font * 1.4,
        label: { show: true, color: "#1a1a1a", fontSize: th.font * 0.75, formatter: function (p) { return p.value ? String(p.value) : ""; } } };
    };
    var series = LEVELS.map(function (n) { return stack(CH.t("rate_" + n), LEVEL_COLORS[n], levels(n)); });
    series.push(stack(CH.t("ch_unrated"), th.unrated, function (l) { return l.unrated || 0; }));
    return merge(base(th), {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, renderMode: "richText", textStyle: { fontSize: th.font }, confine: true },
      grid: { left: th.font * 0.5, right: th.font * 1.5, top: th.font * 3.4, bottom: th.font * 0.5, containLabel: true },
      xAxis: merge({ type: "value", minInterval: 1 }, axisStyle(th)),
      yAxis: merge({ type: "category", data: lines.map(function (l) { return whoOf(l, by); }) }, axisStyle(th)),
      series: series
    });
  };

  /* A chart in `el`, made once and kept; null without ECharts. */
  C.chart = function (el) {
    if (!window.echarts) return null;
    return window.echarts.getInstanceByDom(el) || window.echarts.init(el, null, { renderer: "canvas" });
  };

  /* ---------- the views of the dashboard's address ---------- */

  var VIEWS = { charts: "#chartsView", integrity: "#integrityView" };
  var shown = {};                  // name → function called when that view opens
  S.onView = function (name, fn) { shown[name] = fn; };
  S.view = function () { var m = /^#(charts|integrity)$/.exec(location.hash); return m ? m[1] : null; };

  /* After supervisor-cases.js has chosen between the dashboard and the cases. */
  function routeViews() {
    var v = S.view();
    Object.keys(VIEWS).forEach(function (k) { CH.$(VIEWS[k]).hidden = v !== k; });
    if (v) { CH.$("#dashMain").hidden = true; CH.$("#casesView").hidden = true; }
    document.querySelectorAll("#viewNav [data-view]").forEach(function (a) {
      var here = a.getAttribute("data-view") === (v || (/^#cases/.test(location.hash) ? "cases" : "dash"));
      if (here) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
    });
    if (v && shown[v] && S.session()) shown[v]();
  }

  /* ---------- the charts view ---------- */

  if (!CH.$("#chartsView")) return;   // the wall screen uses the builders only
  window.addEventListener("hashchange", routeViews);

  var EVENTS = ["ticket.issued", "ticket.called", "ticket.finished", "ticket.no_show", "rating.received"];
  var day = null;                  // the day shown ("YYYY-MM-DD"); null: today, whatever the date
  var range = "day";               // satisfaction of the day, or of its month
  var hourly = null, hourlyError = null, figs = null, figsError = null;
  var seq = 0;

  CH.$("#chDay").addEventListener("change", function () {
    var v = CH.$("#chDay").value;
    day = v && v !== todayText() ? v : null;
    refresh();
  });
  document.querySelectorAll("#chartsView [data-srange]").forEach(function (b) {
    b.addEventListener("click", function () { range = b.getAttribute("data-srange"); refreshFigures(++seq); });
  });
  window.addEventListener("resize", CH.debounce(resize, 150));

  function todayText() {
    var p = CH.hallParts(CH.hallNow());
    return p.year + "-" + CH.pad2(p.month) + "-" + CH.pad2(p.day);
  }
  function showing() { return !CH.$("#chartsView").hidden; }

  function refresh() {
    if (!S.session() || !showing()) return;
    var mine = ++seq;
    S.api("GET", "/api/stats/hourly" + (day ? "?day=" + day : "")).then(function (res) {
      if (mine !== seq) return;
      if (res.ok && res.data && Array.isArray(res.data.hours)) { hourly = res.data; hourlyError = null; }
      else if (res.status !== 401) { hourly = null; hourlyError = res.status === 404 ? CH.t("none_yet") : CH.errorText(res); }
      renderDay();
      refreshFigures(mine);
    });
  }

  function refreshFigures(mine) {
    var d = (hourly && hourly.day) || day || todayText();
    var q = range === "month" ? "?from=" + d.slice(0, 8) + "01&to=" + d : "?from=" + d + "&to=" + d;
    S.api("GET", "/api/ratings/figures" + q).then(function (res) {
      if (mine !== seq) return;
      if (res.ok && res.data && res.data.figures) { figs = res.data.figures; figsError = null; }
      else if (res.status !== 401) { figs = null; figsError = res.status === 404 ? CH.t("none_yet") : CH.errorText(res); }
      renderSatisfaction();
    });
  }
  var refreshLater = CH.debounce(refresh, 1500);

  function theme() {
    return C.theme(Math.max(12, Math.round(parseFloat(getComputedStyle(CH.$("#chartsView")).fontSize) * 0.9)), false);
  }

  /* A chart drawn, or a note in its place ("暂无…"), and the note's words. */
  function draw(name, option, note) {
    var box = CH.$("#ch" + name), msg = CH.$("#ch" + name + "Note");
    msg.textContent = note || "";
    msg.hidden = !note;
    if (!window.echarts) { msg.textContent = CH.t("ch_no_echarts"); msg.hidden = false; return; }
    if (!option) return;
    var chart = C.chart(box);
    chart.setOption(option, true);
    chart.resize();
  }

  function renderDay() {
    document.querySelectorAll("#chartsView [data-srange]").forEach(function (b) {
      b.setAttribute("aria-selected", String(b.getAttribute("data-srange") === range));
    });
    if (hourly && hourly.day && document.activeElement !== CH.$("#chDay")) CH.$("#chDay").value = hourly.day;
    renderTotals();
    if (!hourly) { draw("Hourly", null, hourlyError || CH.t("loading")); draw("Services", null, hourlyError || CH.t("loading")); return; }
    var th = theme(), t = hourly.total || {};
    draw("Hourly", C.hourly(hourly, th), t.issued || t.called ? "" : CH.t("ch_none_day"));
    draw("Services", C.services(hourly, th), (hourly.services || []).length ? "" : CH.t("services_none"));
  }

  function renderTotals() {
    var box = CH.clear(CH.$("#chTotals"));
    var t = (hourly && hourly.total) || {}, f = figs && figs.total;
    var item = function (key, value, cls) {
      box.appendChild(CH.el("div", { class: "kpi " + (cls || ""), "data-kpi": key }, [
        CH.el("span", { class: "k-label", text: CH.t("kpi_" + key) }),
        CH.el("b", { class: "k-val" }, Array.isArray(value) ? [value[0], CH.el("small", { text: value[1] })] : [value])
      ]));
    };
    var num = function (n) { return hourly ? String(n || 0) : "—"; };
    item("issued", num(t.issued)); item("called", num(t.called)); item("finished", num(t.finished));
    item("no_show", num(t.no_show)); item("waiting", num(t.waiting));
    item("avg_wait", t.avg_wait_s === null || t.avg_wait_s === undefined ? "—" : C.minutes(t.avg_wait_s));
    item("p90_wait", t.p90_wait_s === null || t.p90_wait_s === undefined ? "—" : C.minutes(t.p90_wait_s));
    item("good", f ? C.pct(f.good, f.rated) : "—", "good");
  }

  function renderSatisfaction() {
    renderTotals();
    CH.$("#chSatRange").textContent = figs ? (figs.from === figs.to ? figs.from : CH.t("hcp_range", { from: figs.from, to: figs.to })) : "";
    if (!figs) { draw("ByWindow", null, figsError || CH.t("loading")); draw("ByStaff", null, figsError || CH.t("loading")); return; }
    var th = theme();
    draw("ByWindow", C.satisfaction(figs.windows, "window", th), (figs.windows || []).length ? "" : CH.t("ch_none_rated"));
    draw("ByStaff", C.satisfaction(figs.staff, "staff", th), (figs.staff || []).length ? "" : CH.t("ch_none_rated"));
  }

  function resize() {
    if (!showing() || !window.echarts) return;
    ["Hourly", "Services", "ByWindow", "ByStaff"].forEach(function (n) {
      var c = window.echarts.getInstanceByDom(CH.$("#ch" + n));
      if (c) c.resize();
    });
  }

  S.onView("charts", function () { renderDay(); renderSatisfaction(); refresh(); });

  (S.parts = S.parts || []).push({
    start: function () { hourly = figs = null; routeViews(); },
    render: function () { if (showing()) { renderDay(); renderSatisfaction(); } },
    tick: function () { if (!day) refresh(); },
    event: function (msg) { if (!day && EVENTS.indexOf(msg.event) >= 0) refreshLater(); }
  });
})();
