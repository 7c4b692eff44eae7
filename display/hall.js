/* Hall screen (/display#device=TOKEN): the latest call large, recent calls,
 * waiting per service, the windows and who staffs them, the published calling
 * rule, integrity notices, the hall's clock, and the voice queue. The window
 * and service lists show what fits their boxes at a readable size and turn
 * pages when more is left. While 延时服务 (extended hours) is in force for
 * some services, a green band under the top bar says which and until when:
 * read at start and on each reconnect (GET /api/extended-hours), followed
 * live (hours.changed), and dropped by itself once its time has passed.
 * Keys: L switches language, M mutes/unmutes the voice, R reconnects now. */
(function () {
  "use strict";
  var CH = window.CH;
  CH.page = "hall";

  var FRESH_MS = 15000; // how long the latest call stays highlighted
  var PAGE_MS = 8000; // how long a page of windows or services stays before the next
  var pages = { windows: { at: 0, count: 1 }, services: { at: 0, count: 1 } };
  var token = CH.deviceToken("display");
  var state = { services: [], windows: [], recent_calls: [], notices: [] };
  var latest = null; // {number, window, at, recall}
  var freshTimer = null;
  var policy = null;
  var live = null;
  var extended = []; // 延时服务 sessions in force: [{id, services: [codes], until, ...}]
  var extendedReadAt = 0; // when they were last read over HTTP (Date.now())

  var voice = new window.ClearhallVoice.VoiceQueue({
    onstate: function (what) {
      if (what === "blocked") CH.$("#audioHint").hidden = false;
    }
  });
  voice.preload(["chime", "qing", "hao", "dao", "hao-chuangkou", "banli", "shi"]);
  window.clearhallVoice = voice; // for tests and for a technician's console

  CH.applyStrings();
  startClock();

  renderAll();
  if (!token) {
    CH.showBlockerKeys("no_token_title", "no_token_detail");
    return;
  }

  document.addEventListener("keydown", function (e) {
    if (e.key === "l" || e.key === "L") CH.toggleLang();
    else if (e.key === "m" || e.key === "M") { voice.enabled = !voice.enabled; }
    else if (e.key === "r" || e.key === "R") { if (live) live.reconnectNow(); }
  });
  document.addEventListener("click", function () {
    // a click (or remote's OK) unlocks audio where the browser requires a gesture
    CH.$("#audioHint").hidden = true;
  });
  CH.onlang = function () { CH.$("#clock").textContent = CH.clockText(); fitName(); renderAll(); loadPolicy(); };
  window.addEventListener("resize", CH.debounce(function () { fitName(); renderAll(); }, 200));

  loadHall();
  loadPolicy();
  loadExtended();
  setInterval(loadPolicy, 10 * 60 * 1000);
  setInterval(function () { takeExtended(extended); }, 15000); // a session's time runs out without an event
  setInterval(loadExtended, 5 * 60 * 1000);
  setInterval(loadHall, 10 * 60 * 1000); // the hall's clock, against drift
  setInterval(turnPages, PAGE_MS);

  // The socket's snapshot and every queue.changed are the whole state: taken as
  // they are. Other events only do what they mean by themselves.
  live = new CH.Live("token=" + encodeURIComponent(token), {
    poll: pollQueue,
    pollMs: 3000,
    onstatus: function (s) {
      CH.$("#offline").hidden = s !== "offline";
      if (s === "unauthorized") CH.showBlockerKeys("bad_token_title", "bad_token_detail");
      else CH.hideBlocker();
      if (s === "online") { loadPolicy(); loadHall(); loadExtended(); }
    },
    onstate: function (msg) {
      merge(msg);
      rememberCalls();
      if (!latest && state.recent_calls.length) {
        var r = state.recent_calls[0];
        latest = { number: r.number, window: r.window, at: r.at, recall: false };
      }
      renderAll();
    },
    onevent: onEvent
  });

  /* Without the socket, calls are found by reading /api/queue: a recent call
   * not seen before is announced like a ticket.called event. */
  var seenCalls = null; // "number@window@at" of every call already shown (a day's worth at most)
  function callKey(r) { return r.number + "@" + r.window + "@" + r.at; }
  function rememberCalls() {
    seenCalls = seenCalls || {};
    state.recent_calls.forEach(function (r) { seenCalls[callKey(r)] = true; });
  }
  function pollQueue() {
    if (Date.now() - extendedReadAt > 30000) loadExtended();
    return CH.api("GET", "/api/queue", null, token).then(function (res) {
      if (!res.ok || !res.data) return false;
      var first = seenCalls === null;
      merge(res.data);
      var fresh = first ? [] : state.recent_calls.filter(function (r) { return !seenCalls[callKey(r)]; });
      rememberCalls();
      fresh.reverse().forEach(function (r) {
        latest = { number: r.number, window: r.window, at: r.at, recall: false };
        voice.announce(r.number, r.window);
      });
      if (first && !latest && state.recent_calls.length) {
        var r0 = state.recent_calls[0];
        latest = { number: r0.number, window: r0.window, at: r0.at, recall: false };
      }
      renderAll();
      if (fresh.length) renderNow(true);
      return true;
    });
  }

  function merge(data) {
    ["services", "windows", "recent_calls", "notices"].forEach(function (k) {
      if (Array.isArray(data[k])) state[k] = data[k].slice();
    });
    // times may carry different offsets (+08:00 from the queue, UTC on events): compare instants
    state.recent_calls.sort(function (a, b) { return (Date.parse(b.at) || 0) - (Date.parse(a.at) || 0); });
  }

  function onEvent(msg) {
    if (msg.event === "ticket.called" && msg.ticket) {
      var call = { number: msg.ticket.number, window: msg.window, at: msg.at || new Date().toISOString(), recall: !!msg.recall };
      latest = call;
      if (!call.recall) {
        if (seenCalls) seenCalls[callKey(call)] = true;
        state.recent_calls = [{ number: call.number, window: call.window, at: call.at }].concat(
          state.recent_calls.filter(function (r) { return r.number !== call.number; }));
      }
      state.windows.forEach(function (w) {
        if (w.number === call.window) w.current = { number: call.number };
      });
      voice.announce(call.number, call.window);
      renderNow(true);
      renderRecent();
      renderWindows();
    }
    if (msg.event === "hours.changed" && Array.isArray(msg.extended)) takeExtended(msg.extended);
    var changed = CH.changedWindow(msg);
    if (changed) {
      state.windows = state.windows.filter(function (w) { return w.number !== changed.number; }).concat([changed]);
      renderWindows();
    }
    // counts, notices (notice.changed) and the rest arrive with the queue.changed
    // that follows every burst of events
  }

  /* ---------- rendering ---------- */

  function renderAll() {
    renderExtended();
    renderNow(false);
    renderRecent();
    renderServices();
    renderWindows();
    renderNotices();
    renderPolicy();
  }

  function renderNow(fresh) {
    var box = CH.$("#now");
    if (!latest) {
      CH.$("#nowNumber").textContent = "";
      CH.clear(CH.$("#nowTo")).appendChild(document.createTextNode(CH.t("now_none")));
      return;
    }
    CH.$("#nowNumber").textContent = latest.number;
    var to = CH.clear(CH.$("#nowTo"));
    to.appendChild(document.createTextNode(CH.t("now_to_before")));
    to.appendChild(CH.el("b", { text: String(latest.window) }));
    to.appendChild(document.createTextNode(CH.t("now_to_after")));
    if (latest.recall) to.appendChild(CH.el("span", { class: "recall-tag", text: CH.t("recall") }));
    if (fresh) {
      box.classList.remove("fresh");
      void box.offsetWidth; // restart the highlight for a call right after another
      box.classList.add("fresh");
      clearTimeout(freshTimer);
      freshTimer = setTimeout(function () { box.classList.remove("fresh"); }, FRESH_MS);
    }
  }

  function renderRecent() {
    var ol = CH.clear(CH.$("#recent"));
    var rows = state.recent_calls.slice(0, 8);
    if (!rows.length) { ol.appendChild(CH.el("li", { class: "empty", text: CH.t("recent_none") })); return; }
    rows.forEach(function (r, i) {
      ol.appendChild(CH.el("li", { class: i === 0 ? "first" : "" }, [
        CH.el("span", { class: "num", text: r.number }),
        CH.el("span", { class: "win", text: CH.t("window_n", { n: r.window }) })
      ]));
    });
  }

  function renderServices() {
    var tb = CH.clear(CH.$("#services"));
    CH.$("#servicesPager").textContent = "";
    if (!state.services.length) {
      tb.appendChild(CH.el("tr", {}, [CH.el("td", { colspan: "3", class: "empty", text: CH.t("services_none") })]));
      return;
    }
    paginate(tb, CH.$(".services"), CH.$("#servicesPager"), pages.services, state.services.map(function (s) {
      return CH.el("tr", { class: s.open === false ? "closed" : "" }, [
        CH.el("td", {}, [CH.el("span", { class: "code", text: s.code }), s.name]),
        CH.el("td", { class: "count", text: String(s.waiting || 0) }),
        CH.el("td", { text: s.waiting ? CH.fmtWait(s.estimated_wait_s) : CH.t("wait_none") })
      ]);
    }));
  }

  function renderWindows() {
    var grid = CH.clear(CH.$("#windows"));
    CH.$("#windowsPager").textContent = "";
    paginate(grid, grid, CH.$("#windowsPager"), pages.windows, state.windows.slice().sort(function (a, b) {
      return a.number - b.number;
    }).map(function (w) {
      var status = w.status || "closed";
      var staff = w.staff;
      var line3 = status === "open" && w.current ? w.current.number : CH.t("status_" + status);
      return CH.el("div", { class: "win-card " + status, "data-window": w.number }, [
        CH.el("div", { class: "wtop" }, [
          CH.el("span", { class: "wno", text: CH.t("window_n", { n: w.number }) }),
          CH.el("span", { class: "wcur" + (status === "open" && !w.current ? " idle" : ""), text: line3 })
        ]),
        CH.el("div", { class: "wstaff" }, staff ? [
          staff.name,
          staff.party_member ? CH.el("span", { class: "badge-party", text: CH.t("party_badge_short") }) : null
        ] : [CH.t("no_staff")])
      ]);
    }));
  }

  /* ---------- 延时服务 ---------- */

  function loadExtended() {
    extendedReadAt = Date.now();
    CH.api("GET", "/api/extended-hours", null, token).then(function (res) {
      if (res.ok && res.data && Array.isArray(res.data.extended)) takeExtended(res.data.extended);
    });
  }

  /* The sessions in force now; when the band appears or goes, the lists below
   * have another height, so their pages are measured again. */
  function takeExtended(list) {
    extended = list;
    var was = CH.$("#extended").hidden;
    renderExtended();
    if (was !== CH.$("#extended").hidden) { renderServices(); renderWindows(); }
  }

  /* "延时服务  不动产登记、公积金 · 至 19:00": each service until the latest of its
   * sessions, one item per closing time, the services by name in the hall's order. */
  function renderExtended() {
    var now = CH.hallNow().getTime();
    var names = {}, latest = {};
    state.services.forEach(function (s) { names[s.code] = s.name; });
    extended.forEach(function (s) {
      var at = Date.parse(s.until);
      if (!(at > now)) return; // over (the server no longer lists it either)
      (s.services || []).forEach(function (c) { if (!latest[c] || latest[c].at < at) latest[c] = { at: at, iso: s.until }; });
    });
    var rank = function (c) { var i = state.services.map(function (s) { return s.code; }).indexOf(c); return i < 0 ? 999 : i; };
    var byUntil = {}, order = [];
    Object.keys(latest).sort(function (a, b) { return rank(a) - rank(b) || (a < b ? -1 : 1); }).forEach(function (c) {
      var until = CH.fmtTime(latest[c].iso);
      if (!byUntil[until]) { byUntil[until] = { at: latest[c].at, codes: [] }; order.push(until); }
      byUntil[until].codes.push(c);
    });
    order.sort(function (a, b) { return byUntil[b].at - byUntil[a].at; });
    var list = CH.clear(CH.$("#extendedList"));
    order.forEach(function (until) {
      var words = byUntil[until].codes.map(function (c) { return names[c] || c; }).join(CH.t("extended_sep"));
      list.appendChild(CH.el("span", { class: "extended-item" }, [
        CH.el("span", { class: "svcs", text: words }),
        CH.el("span", { class: "until", text: " · " + CH.t("extended_until", { t: until }) })
      ]));
    });
    CH.$("#extended").hidden = !order.length;
  }

  /* Put `rows` into `list`, one page of them: all are laid out once to count
   * how many end above the bottom of `box` (less its padding), and when some do
   * not, the rows are shared evenly over as many pages as needed and only the
   * current page's stay. `pager` shows "1/2". */
  function paginate(list, box, pager, paging, rows) {
    rows.forEach(function (r) { list.appendChild(r); });
    var bottom = box.getBoundingClientRect().bottom - parseFloat(getComputedStyle(box).paddingBottom) + 1;
    var fit = rows.filter(function (r) { return r.getBoundingClientRect().bottom <= bottom; }).length;
    if (fit < 1 || fit >= rows.length) { paging.count = 1; paging.at = 0; return; }
    paging.count = Math.ceil(rows.length / fit);
    paging.at = Math.min(paging.at, paging.count - 1);
    var per = Math.ceil(rows.length / paging.count);
    rows.forEach(function (r, i) { if (Math.floor(i / per) !== paging.at) list.removeChild(r); });
    pager.textContent = (paging.at + 1) + "/" + paging.count;
  }

  function turnPages() {
    if (pages.windows.count > 1) { pages.windows.at = (pages.windows.at + 1) % pages.windows.count; renderWindows(); }
    if (pages.services.count > 1) { pages.services.at = (pages.services.at + 1) % pages.services.count; renderServices(); }
  }

  function renderNotices() {
    var track = CH.clear(CH.$("#ticker"));
    var items = state.notices.length ? state.notices : [{ title: CH.t("notice_default_title"), body: CH.t("notice_default_body") }];
    var chars = 0;
    items.forEach(function (n) {
      track.appendChild(CH.el("span", { class: "item" }, [CH.el("b", { text: "【" + n.title + "】" }), n.body || ""]));
      chars += String(n.title || "").length + String(n.body || "").length;
    });
    // a steady reading speed: about 4 characters a second, at least 30 s a loop
    track.style.animationDuration = Math.max(30, Math.round(chars / 4) + 20) + "s";
  }

  function loadPolicy() {
    CH.api("GET", "/api/policy", null, token).then(function (res) {
      if (res.ok && res.data && res.data.policy) { policy = res.data.policy; renderPolicy(); }
    });
  }
  function renderPolicy() {
    var text = policy ? (CH.lang === "en" ? policy.text_en || policy.text_zh : policy.text_zh) : "";
    if (!text && policy && policy.max_consecutive_priority) text = CH.t("policy_fallback", { n: policy.max_consecutive_priority });
    var el = CH.$("#policy");
    el.textContent = text || CH.t("policy_fallback", { n: 3 });
    el.classList.remove("scroll");
    var overflow = el.scrollWidth - CH.$("#policyWindow").clientWidth;
    if (overflow > 0) {
      el.style.setProperty("--policy-shift", -(overflow + 40) + "px");
      // about 60 px a second, so every word can be read
      el.style.animationDuration = Math.max(15, Math.round((overflow + 40) / 60 / 0.88)) + "s";
      el.classList.add("scroll");
    }
  }

  function loadHall() {
    CH.readHall(token).then(function (res) {
      if (res.ok && res.data && res.data.hall && res.data.hall.name) {
        CH.$("#hallName").textContent = res.data.hall.name;
        CH.$("#hallName").removeAttribute("data-t");
      }
      CH.$("#clock").textContent = CH.clockText();
      fitName();
      takeExtended(extended); // its times on the hall's clock
    });
  }
  function fitName() { CH.fitText(CH.$("#hallName"), 24); }

  function startClock() {
    var tick = function () { CH.$("#clock").textContent = CH.clockText(); };
    tick();
    setInterval(tick, 1000);
  }
})();
