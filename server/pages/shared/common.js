/* Shared by every clearhall page: language, device tokens, the HTTP API and the
 * live WebSocket. Plain ES5-ish JavaScript, no build step, no outside requests.
 *
 * The words a page shows live in /static/shared/strings.js and the page's own
 * strings file; pages call CH.t("key") and mark static text with data-t="key".
 * The live socket is in /static/shared/live.js.
 */
(function (root) {
  "use strict";

  var CH = {};

  /* ---------- language ---------- */

  var params = new URLSearchParams(root.location ? root.location.search : "");
  CH.lang = params.get("lang") === "en" ? "en" :
    params.get("lang") === "zh" ? "zh" :
    (safeGet(root.localStorage, "clearhall.lang") === "en" ? "en" : "zh");
  CH.page = "common";

  function safeGet(store, key) { try { return store ? store.getItem(key) : null; } catch (e) { return null; } }
  function safeSet(store, key, value) {
    try { if (value === null) store.removeItem(key); else store.setItem(key, value); } catch (e) { /* private mode */ }
  }

  /* The {zh, en} entry for `key`: the page's table first, then the shared one; or null. */
  CH.lookup = function (key) {
    var S = root.CLEARHALL_STRINGS || {};
    return (S[CH.page] || {})[key] || (S.common || {})[key] || null;
  };

  CH.t = function (key, vars) {
    var entry = CH.lookup(key);
    var text = entry ? (entry[CH.lang] !== undefined ? entry[CH.lang] : entry.zh) : key;
    if (vars) {
      Object.keys(vars).forEach(function (k) {
        text = text.split("{" + k + "}").join(vars[k] === null || vars[k] === undefined ? "" : vars[k]);
      });
    }
    return text;
  };

  /* Fill every [data-t] element (and data-t-placeholder) under root. */
  CH.applyStrings = function (scope) {
    scope = scope || document;
    scope.querySelectorAll("[data-t]").forEach(function (el) { el.textContent = CH.t(el.getAttribute("data-t")); });
    scope.querySelectorAll("[data-t-placeholder]").forEach(function (el) {
      el.setAttribute("placeholder", CH.t(el.getAttribute("data-t-placeholder")));
    });
    document.documentElement.lang = CH.lang === "en" ? "en" : "zh-CN";
    document.body.classList.toggle("lang-en", CH.lang === "en");
  };

  CH.setLang = function (lang) {
    CH.lang = lang === "en" ? "en" : "zh";
    safeSet(root.localStorage, "clearhall.lang", CH.lang);
    CH.applyStrings();
    if (CH.onlang) CH.onlang(CH.lang);
  };
  CH.toggleLang = function () { CH.setLang(CH.lang === "en" ? "zh" : "en"); };

  /* ---------- small helpers ---------- */

  CH.$ = function (sel, scope) { return (scope || document).querySelector(sel); };
  CH.el = function (tag, attrs, children) {
    var el = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      if (k === "class") el.className = attrs[k];
      else if (k === "text") el.textContent = attrs[k];
      else if (k.slice(0, 2) === "on") el.addEventListener(k.slice(2), attrs[k]);
      else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) el.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      el.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    });
    return el;
  };
  CH.clear = function (el) { while (el.firstChild) el.removeChild(el.firstChild); return el; };

  /* "约 12 分钟" / "about 12 min"; null → "—" */
  CH.fmtWait = function (seconds) {
    if (seconds === null || seconds === undefined || isNaN(seconds)) return CH.t("wait_unknown");
    var min = Math.max(0, Math.round(seconds / 60));
    if (min < 1) return CH.t("wait_now");
    if (min >= 120) return CH.t("wait_hours", { h: Math.round(min / 6) / 10 });
    return CH.t("wait_min", { n: min });
  };

  /* A ticket's wait: "—" only when the server has no estimate (no staffed
   * window serves its service); a short one with several windows is 不到 1 分钟. */
  CH.fmtTicketWait = function (t) {
    return t ? CH.fmtWait(t.estimated_wait_s) : CH.t("wait_unknown");
  };

  /* "09:05": the time of an ISO 8601 instant on the hall's clock face */
  CH.fmtTime = function (iso) {
    var d = iso ? new Date(iso) : null;
    return d && !isNaN(d.getTime()) ? CH.clockText(d, true) : "";
  };
  function pad2(n) { return (n < 10 ? "0" : "") + n; }
  CH.pad2 = pad2;

  /* ---------- the hall's clock ---------- */

  /* The hall's time: its zone (GET /api/services' `hall.timezone`) on the server's clock (`hall.now`,
   * kept as an offset from the browser's clock as of the middle of the round trip), whatever the
   * browser's own time and zone. Until then, and on pages that never ask, the browser's. */
  var hallClock = { offsetMs: 0, zone: null, format: null };
  CH.readHall = function (token) {
    var sent = Date.now();
    return CH.api("GET", "/api/services", null, token).then(function (res) {
      var hall = res.ok && res.data && res.data.hall;
      if (!hall) return res;
      var server = Date.parse(hall.now);
      if (!isNaN(server)) hallClock.offsetMs = server - (sent + Date.now()) / 2;
      try {
        hallClock.format = new Intl.DateTimeFormat("en-US", { timeZone: hall.timezone, hourCycle: "h23", weekday: "short",
          year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric" });
        hallClock.zone = hall.timezone;
      } catch (e) { /* no zone, or one this browser does not know: keep the last */ }
      return res;
    });
  };
  CH.hallNow = function () { return new Date(Date.now() + hallClock.offsetMs); };
  /* {year, month, day, weekday (0 = Sunday), hour, minute} of instant `d` in the hall's zone */
  CH.hallParts = function (d) {
    if (!hallClock.format) {
      return { year: d.getFullYear(), month: d.getMonth() + 1, day: d.getDate(), weekday: d.getDay(), hour: d.getHours(), minute: d.getMinutes() };
    }
    var p = {};
    hallClock.format.formatToParts(d).forEach(function (part) { p[part.type] = part.value; });
    return { year: +p.year, month: +p.month, day: +p.day, weekday: ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].indexOf(p.weekday),
             hour: +p.hour % 24, minute: +p.minute };
  };

  /* 延时服务's end, as the console and the dashboard offer it: "HH:MM" an hour from now on
   * the hall's clock, rounded up to the quarter (at most 23:59) … */
  CH.untilDefault = function () {
    var p = CH.hallParts(CH.hallNow());
    var m = Math.min(24 * 60 - 1, Math.ceil((p.hour * 60 + p.minute + 60) / 15) * 15);
    return pad2(Math.floor(m / 60)) + ":" + pad2(m % 60);
  };
  /* … and as they send it: "HH:MM" when it is later today (the server takes it as today,
   * hall time); a time at or before now is after midnight, sent as the instant it is. */
  CH.untilValue = function (hhmm) {
    var p = CH.hallParts(CH.hallNow()), parts = hhmm.split(":");
    var target = Number(parts[0]) * 60 + Number(parts[1]), now = p.hour * 60 + p.minute;
    if (target > now) return hhmm;
    var start = CH.hallNow();
    start.setSeconds(0, 0);
    return new Date(start.getTime() + (target - now + 24 * 60) * 60000).toISOString();
  };

  /* The clock a screen shows, on the hall's clock: "2026年11月29日 星期日  10:32",
   * "Sun 29 Nov 2026  10:32"; `timeOnly` for just "10:32". */
  CH.clockText = function (d, timeOnly) {
    d = d || CH.hallNow();
    var p = CH.hallParts(d), time = pad2(p.hour) + ":" + pad2(p.minute);
    if (timeOnly) return time;
    if (CH.lang === "zh") return p.year + "年" + p.month + "月" + p.day + "日 星期" + "日一二三四五六"[p.weekday] + "  " + time;
    var opts = { weekday: "short", day: "numeric", month: "short", year: "numeric", timeZone: hallClock.zone || undefined };
    return d.toLocaleDateString("en-GB", opts) + "  " + time;
  };

  CH.categoryName = function (cat) { return CH.t("cat_" + (cat || "normal")); };
  CH.GREEN = ["elderly", "disabled", "pregnant", "military"];
  CH.isGreen = function (cat) { return CH.GREEN.indexOf(cat) >= 0; };

  /* GB 11643-1999 check character of the first 17 digits, or null. */
  CH.idCheckChar = function (first17) {
    if (!/^\d{17}$/.test(first17)) return null;
    var w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    var sum = 0;
    for (var i = 0; i < 17; i++) sum += Number(first17[i]) * w[i];
    return "10X98765432"[sum % 11];
  };
  /* "ok" | "incomplete" | "bad_check" | "bad_date" | "bad_chars" */
  CH.checkIdNumber = function (s) {
    s = String(s || "").toUpperCase();
    if (!/^\d{0,17}[\dX]?$/.test(s) || (s.indexOf("X") >= 0 && s.length !== 18)) return "bad_chars";
    if (s.length >= 14) {
      var y = Number(s.slice(6, 10)), m = Number(s.slice(10, 12)), d = Number(s.slice(12, 14));
      var date = new Date(y, m - 1, d);
      if (y < 1900 || date.getFullYear() !== y || date.getMonth() !== m - 1 || date.getDate() !== d || date > new Date()) {
        return "bad_date";
      }
    }
    if (s.length < 18) return "incomplete";
    return CH.idCheckChar(s.slice(0, 17)) === s[17] ? "ok" : "bad_check";
  };

  /* ---------- tokens ---------- */

  /* A device page's token: taken from #device=TOKEN once, kept in localStorage
   * (the page survives a reboot of the kiosk browser), and removed from the
   * address bar so it is not seen over a shoulder or bookmarked. */
  CH.deviceToken = function (storageKey) {
    var key = "clearhall.device." + (storageKey || "token");
    var hash = root.location.hash.replace(/^#/, "");
    var hp = new URLSearchParams(hash);
    var fromHash = hp.get("device");
    if (fromHash) {
      safeSet(root.localStorage, key, fromHash);
      hp.delete("device");
      var rest = hp.toString();
      root.history.replaceState(null, "", root.location.pathname + root.location.search + (rest ? "#" + rest : ""));
      return fromHash;
    }
    return safeGet(root.localStorage, key);
  };
  CH.forgetDeviceToken = function (storageKey) {
    safeSet(root.localStorage, "clearhall.device." + (storageKey || "token"), null);
  };

  /* ---------- HTTP API ---------- */

  /* Resolves to {ok, status, data, error: {code, message}}; never rejects. */
  CH.api = function (method, path, body, token, extraHeaders) {
    var headers = { "Accept": "application/json", "Accept-Language": CH.lang === "en" ? "en" : "zh-CN" };
    if (body !== undefined && body !== null) headers["Content-Type"] = "application/json";
    if (token) headers["Authorization"] = "Bearer " + token;
    if (extraHeaders) Object.keys(extraHeaders).forEach(function (k) { headers[k] = extraHeaders[k]; });
    return fetch(path, {
      method: method,
      headers: headers,
      body: body !== undefined && body !== null ? JSON.stringify(body) : undefined,
      cache: "no-store"
    }).then(function (resp) {
      return resp.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        var ok = resp.status >= 200 && resp.status < 300;
        var error = null;
        if (!ok) {
          error = (data && data.error) || { code: "http_" + resp.status, message: text.slice(0, 200) || resp.statusText };
        }
        return { ok: ok, status: resp.status, data: data, error: error };
      });
    }, function (err) {
      return { ok: false, status: 0, data: null, error: { code: "network", message: String(err && err.message || err) } };
    });
  };

  /* A message for a person from a failed CH.api result, in the page's language only:
   * the page's own words for the error code ("err_" + code, from its strings table,
   * then the shared one) where it has them; else the server's sentence, which
   * follows the Accept-Language that CH.api sends; else a generic line. */
  CH.errorText = function (res) {
    if (!res || res.status === 0) return CH.t("err_network");
    var code = (res.error && res.error.code) || "";
    var own = CH.lookup("err_" + code);
    if (own) return CH.t("err_" + code);
    var msg = res.error && res.error.message;
    return msg || CH.t("err_generic", { status: res.status });
  };

  /* ---------- spoken prompts ---------- */

  /* A voice installed on this machine for the page's language, or null: never a
   * network voice (the hall may have no internet, and what is said is the citizen's). */
  CH.localVoice = function () {
    var synth = root.speechSynthesis;
    if (!synth || !root.SpeechSynthesisUtterance) return null;
    var want = CH.lang === "en" ? "en" : "zh";
    var voices = synth.getVoices() || [];
    for (var i = 0; i < voices.length; i++) {
      if (voices[i].localService && String(voices[i].lang).toLowerCase().indexOf(want) === 0) return voices[i];
    }
    return null;
  };

  /* Say `text` with the local voice, slowly; quietly nothing without one (the screen says it). */
  CH.say = function (text) {
    if (!text) return;
    try {
      var voice = CH.localVoice();
      if (!voice) return;
      root.speechSynthesis.cancel();
      var u = new root.SpeechSynthesisUtterance(text);
      u.voice = voice;
      u.lang = voice.lang;
      u.rate = 0.85;
      root.speechSynthesis.speak(u);
    } catch (e) { /* no voice */ }
  };

  CH.idempotencyKey = function () {
    if (root.crypto && root.crypto.randomUUID) return root.crypto.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  };

  /* Call fn at most once per `ms`, trailing. */
  CH.debounce = function (fn, ms) {
    var timer = null;
    return function () {
      var args = arguments;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(null, args); }, ms);
    };
  };

  /* A full-page message for a page that cannot work (no token, bad token). */
  CH.showBlocker = function (title, detail) {
    var box = document.getElementById("blocker");
    if (!box) {
      box = CH.el("div", { id: "blocker", role: "alert", class: "blocker" });
      document.body.appendChild(box);
    }
    CH.clear(box);
    box.appendChild(CH.el("div", { class: "blocker-card" }, [
      CH.el("h1", { text: title }),
      CH.el("p", { text: detail || "" })
    ]));
    box.hidden = false;
  };
  /* The same, from string keys, in both languages (the person reading it may be
   * the hall's IT technician rather than a citizen). */
  CH.showBlockerKeys = function (titleKey, detailKey) {
    CH.showBlocker(CH.t(titleKey), CH.t(detailKey));
    var box = document.getElementById("blocker").firstChild;
    var other = CH.lang === "en" ? "zh" : "en";
    var pick = function (k) { var e = CH.lookup(k); return e ? e[other] : ""; };
    box.appendChild(CH.el("p", { class: "blocker-other", text: pick(titleKey) + "\n" + pick(detailKey) }));
  };
  CH.hideBlocker = function () { var box = document.getElementById("blocker"); if (box) box.hidden = true; };

  /* A long line (a hall name on a narrow screen) made smaller, down to `minPx`, until it fits: never cut. */
  CH.fitText = function (el, minPx) {
    el.style.fontSize = "";
    for (var size = parseFloat(root.getComputedStyle(el).fontSize); el.scrollWidth > el.clientWidth + 1 && size > minPx;) {
      el.style.fontSize = (size = Math.max(minPx, size - 1)) + "px";
    }
  };

  root.CH = CH;
})(window);
