/* The kiosk made for older citizens (适老化).
 *
 * - The ID card path: "请将身份证放在感应区". The card reader's bridge (a later
 *   issue) calls CH.kiosk.cardRead({name, id_number}); until then the number
 *   can be typed (the keypad, purpose "card"). The card is this citizen's real
 *   name for every ticket they take now: no keypad after it. It is forgotten
 *   when they finish or walk away (K.reset). Read on the check-in screen, it
 *   checks a booking in with the service tapped next (kiosk-checkin.js); on the
 *   帮代办 screen it fills the applicant's number, then the proxy's
 *   (kiosk-proxy.js), and is nobody's real name for the visit.
 * - The green channel suggested when the ID's date of birth says 60 or over
 *   on the hall's date (CH.hallNow, the hall's zone).
 * - 长者模式: larger text, more time before the screen goes back, and spoken
 *   prompts: the browser's speech (speechSynthesis) with a voice installed on
 *   the kiosk itself (never a network voice: the hall may have no internet), and
 *   the ticket number from the hall screen's own recorded clips
 *   (/static/display/voice/clips/, shared/voice.js). Anything missing stays quiet.
 * - 呼叫导办: POST /api/guide-calls tells the supervisors' dashboards.
 * Part of the kiosk: kiosk.js (loaded last) starts it. */
(function () {
  "use strict";
  var CH = window.CH;
  var K = CH.kiosk = CH.kiosk || {};

  var SENIOR_AGE = 60;
  var GUIDE_NOTE_MS = 30000;
  var elder = false, clips = null, guideTimer = null;
  var SCREEN_NAMES = { scrCard: "card", scrCategory: "category", scrRejoin: "rejoin", scrRejoined: "rejoin",
    scrDuplicate: "duplicate", scrTicket: "ticket", scrIssuing: "ticket", scrProxy: "proxy",
    scrCheckin: "checkin", scrCheckinNo: "checkin", scrClosed: "closed" };
  var PROMPTS = { scrServices: "choose_service", scrCard: "card_title", scrCategory: "choose_category",
    scrRejoin: "rejoin_sub", scrClosed: "closed_title" };

  K.routes = K.routes || {};
  K.routes.card = function () { CH.$("#cardMsg").textContent = ""; K.show("scrCard"); };

  K.elderly = {
    init: function () {
      CH.$("#cardBtn").addEventListener("click", function () { K.go("card"); });
      CH.$("#cardTypeBtn").addEventListener("click", function () { K.keypad.open("card"); });
      CH.$("#personClear").addEventListener("click", function () { K.st.person = null; K.go("services"); });
      CH.$("#greenSuggestBtn").addEventListener("click", function () { K.pick("elderly"); });
      CH.$("#elderBtn").addEventListener("click", function () { setElder(!elder); });
      CH.$("#guideBtn").addEventListener("click", callGuide);
      setElder(false);
    },
    on: function () { return elder; },
    reset: function () { setElder(false); },
    isSenior: isSenior,
    renderPerson: renderPerson,
    suggestGreen: suggestGreen,
    onScreen: function (id) { if (elder) setTimeout(function () { prompt(id); }, 0); },
    rerender: function (c) {
      CH.$("#elderBtn").textContent = CH.t(elder ? "elder_off" : "elder_on");
      if (c === "scrServices") renderPerson();
    }
  };

  /* ---------- the ID card ---------- */

  /* The entry point of the card reader's bridge: {name, id_number} as read from the card.
   * True when it was taken (a valid number); the kiosk goes on by itself. */
  K.cardRead = function (card) {
    var id = String((card && card.id_number) || "").replace(/\s+/g, "").toUpperCase();
    var c = K.st.current;
    if (c === "scrIssuing") return false;
    if (CH.checkIdNumber(id) !== "ok") {
      if (c !== "scrCard") K.go("card");
      CH.$("#cardMsg").textContent = CH.t("card_bad");
      return false;
    }
    var name = card && card.name ? String(card.name).trim().slice(0, 40) : null;
    // 帮代办: the applicant's card, then the proxy's own; neither is this kiosk visit's person
    if (c === "scrProxy" && K.proxy) return K.proxy.card(id);
    K.st.person = { name: name || null, id_number: id };
    if (c === "scrRealName" && K.st.entry.purpose !== "card") K.keypad.fill(id);  // the field it was asking for
    else if (c === "scrCategory") K.go("category");
    else if (c === "scrRejoin" || c === "scrRejoined" || c === "scrDuplicate") K.show(c);
    else {
      if (c === "scrCheckin" && K.checkin) K.checkin.viaCard();  // 预约签到 by the card: the booked service next
      K.go("services");
    }
    say(CH.t(c === "scrCheckin" ? "checkin_card_note" : "card_read"));
    return true;
  };

  function renderPerson() {
    var p = K.st.person, box = CH.$("#person");
    box.hidden = !p;
    CH.$("#cardBtn").hidden = !!p;  // the card button gives way to whose card it is
    if (!p) return;
    // shown masked: the person at the kiosk knows who they are, the one behind them need not
    var name = p.name ? p.name.charAt(0) + "*".repeat(Math.max(1, p.name.length - 1)) + " " : "";
    CH.$("#personText").textContent = name + p.id_number.slice(0, 4) + "…" + p.id_number.slice(-4);
    CH.$("#personNote").textContent = CH.t(isSenior(p.id_number) ? "person_note_senior" : "person_note");
  }

  /* Born at least 60 years before the hall's today (by the ID's date of birth). */
  function isSenior(id) {
    if (CH.checkIdNumber(id) !== "ok") return false;
    var y = +id.slice(6, 10), m = +id.slice(10, 12), d = +id.slice(12, 14);
    var now = CH.hallParts(CH.hallNow());
    var age = now.year - y - (now.month < m || (now.month === m && now.day < d) ? 1 : 0);
    return age >= SENIOR_AGE;
  }

  function suggestGreen() {
    var p = K.st.person, senior = !!p && isSenior(p.id_number);
    CH.$("#greenSuggest").hidden = !senior;
    var tile = document.querySelector("#greenCats [data-category='elderly']");
    if (tile) tile.classList.toggle("suggested", senior);
  }

  /* ---------- 长者模式 and its voice ---------- */

  function setElder(on) {
    elder = !!on;
    document.body.classList.toggle("elder", elder);
    var b = CH.$("#elderBtn");
    b.setAttribute("aria-pressed", elder ? "true" : "false");
    b.textContent = CH.t(elder ? "elder_off" : "elder_on");
    if (elder) prompt(K.st.current);
    else if (window.speechSynthesis) { try { window.speechSynthesis.cancel(); } catch (e) { /* quiet */ } }
    K.armIdle && K.armIdle();
  }

  function prompt(id) {
    if (!elder) return;
    if (id === "scrTicket" && K.st.ticket) return readNumber(K.st.ticket.number);
    if (id === "scrRejoined") return readNumber(CH.$("#rdNumber").textContent);
    if (id === "scrDuplicate") return say(CH.$("#dupText").textContent);
    if (id === "scrRealName") return say(CH.$("#rnTitle").textContent);
    if (id === "scrCategory" && !CH.$("#greenSuggest").hidden) return say(CH.t("green_suggest"));
    var own = id && document.querySelector("#" + id + " [data-say]");  // the words a screen marks to be said
    if (own && own.textContent) return say(own.textContent);
    if (PROMPTS[id]) say(CH.t(PROMPTS[id]));
  }

  function say(text) { if (elder) CH.say(text); }
  K.say = say;

  /* "♪ A 零 一 二 号" from the hall screen's clips: they are on this server, whatever the kiosk has installed. */
  function readNumber(number) {
    var V = window.ClearhallVoice;
    if (!elder || !V || !number) return;
    try {
      clips = clips || new V.VoiceQueue({});
      var chain = Promise.resolve();
      ["chime"].concat(V.ticketClips(number), ["hao"]).forEach(function (name) {
        chain = chain.then(function () { return clips.playClip(name); });
      });
      chain.catch(function () { /* quiet */ });
    } catch (e) { /* no audio here */ }
  }

  /* ---------- 呼叫导办 ---------- */

  function callGuide() {
    var b = CH.$("#guideBtn"), note = CH.$("#guideMsg");
    var c = K.st.current;
    var screen = c === "scrRealName" ? (K.st.entry.purpose === "rejoin" ? "rejoin" : K.st.entry.purpose === "card" ? "card" : "real_name") :
      SCREEN_NAMES[c] || "start";
    b.disabled = true;
    CH.api("POST", "/api/guide-calls", { screen: screen }, K.token).then(function (res) {
      b.disabled = false;
      var text = res.ok ? CH.t("guide_called") : res.status === 429 ? CH.t("guide_again") : CH.t("guide_failed", { msg: CH.errorText(res) });
      note.textContent = text;
      note.className = "guide-msg " + (res.ok || res.status === 429 ? "ok" : "bad");
      note.hidden = false;
      say(text);
      clearTimeout(guideTimer);
      guideTimer = setTimeout(function () { note.hidden = true; }, GUIDE_NOTE_MS);
    });
  }
})();
