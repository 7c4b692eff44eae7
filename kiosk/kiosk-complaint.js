/* 投诉建议 at the kiosk (CONTRACT §10): a citizen with no phone, or no ticket,
 * tells the hall what went wrong.
 *
 * A kiosk has no keyboard, so the complaint is made of touches: common topics
 * as big buttons (several may be touched), the window it was about (optional,
 * the live queue's windows), and a short note for a kiosk that has a handwriting
 * pad or an on-screen keyboard. Then an optional call-back phone on a digit pad
 * like the real-name one, and POST /api/complaints (no log-in, no ticket). The
 * 201 gives the case and its due date: "我们将在 … 前答复". A 429 (complaints
 * are limited per address, and a kiosk is one address) says in words when to
 * try again. The text is sent in the page's language, as the citizen read it.
 * Part of the kiosk: kiosk.js (loaded last) starts it. */
(function () {
  "use strict";
  var CH = window.CH;
  var K = CH.kiosk = CH.kiosk || {};

  var TOPICS = ["topic_attitude", "topic_wait", "topic_runs", "topic_favours", "topic_unclear", "topic_other"];
  var MOST_DIGITS = 15, LEAST_DIGITS = 7;
  var cp = fresh();
  var sending = false;

  function fresh() { return { topics: {}, window: null, phone: "", filed: null }; }

  K.routes = K.routes || {};
  K.routes.complaint = function () { CH.$("#cpMsg").textContent = ""; renderTopics(); renderWindows(); K.show("scrComplaint"); };
  K.routes.complaintContact = function () { CH.$("#cpSendMsg").textContent = ""; renderContact(); K.show("scrComplaintContact"); };

  K.complaint = {
    init: function () {
      CH.$("#complainBtn").addEventListener("click", function () { cp = fresh(); CH.$("#cpText").value = ""; K.go("complaint"); });
      CH.$("#cpNext").addEventListener("click", next);
      CH.$("#cpBack").addEventListener("click", function () { K.go("complaint"); });
      CH.$("#cpSend").addEventListener("click", send);
      buildPad();
      document.addEventListener("keydown", onHardKey);
    },
    onScreen: function (id) {
      var words = { scrComplaint: "complain_sub", scrComplaintContact: "complain_contact_title" }[id];
      if (words && K.say) K.say(CH.t(words));  // 长者模式 only: K.say is quiet otherwise
      if (id === "scrComplained" && K.say) K.say(CH.$("#cpDue").textContent);
    },
    rerender: function (c) {
      if (c === "scrComplaint") { renderTopics(); renderWindows(); }
      if (c === "scrComplaintContact") renderContact();
      if (c === "scrComplained") renderFiled();
    },
    reset: function () { cp = fresh(); CH.$("#cpText").value = ""; }  // nothing of this citizen stays
  };

  /* ---------- what it is about ---------- */

  function renderTopics() {
    var box = CH.clear(CH.$("#cpTopics"));
    TOPICS.forEach(function (k) {
      box.appendChild(CH.el("button", {
        type: "button", class: "tile topic", "data-topic": k, "aria-pressed": cp.topics[k] ? "true" : "false",
        onclick: function () { cp.topics[k] = !cp.topics[k]; CH.$("#cpMsg").textContent = ""; renderTopics(); }
      }, [CH.el("span", { class: "tick", "aria-hidden": "true", text: cp.topics[k] ? "✓" : "" }), CH.el("span", { class: "name", text: CH.t(k) })]));
    });
  }

  function renderWindows() {
    var box = CH.clear(CH.$("#cpWindows"));
    var numbers = (K.st.windows || []).map(function (w) { return Number(w.number); })
      .filter(function (x) { return x > 0; }).sort(function (a, b) { return a - b; });
    CH.$(".cp-head").hidden = !numbers.length;
    box.hidden = !numbers.length;
    numbers.forEach(function (nr) {
      box.appendChild(CH.el("button", {
        type: "button", class: "key win", "data-window": nr, "aria-pressed": cp.window === nr ? "true" : "false",
        "aria-label": CH.t("window_n", { n: nr }),
        onclick: function () { cp.window = cp.window === nr ? null : nr; renderWindows(); }
      }, [String(nr)]));
    });
  }

  /* The text sent: the topics touched, then the note, in the page's language. */
  function composed() {
    var chosen = TOPICS.filter(function (k) { return cp.topics[k]; }).map(function (k) { return CH.t(k); });
    var note = CH.$("#cpText").value.trim();
    if (!chosen.length) return note;
    return chosen.join(CH.t("topic_sep")) + (note ? CH.t("topic_colon") + note : "");
  }

  function next() {
    if (!composed()) { CH.$("#cpMsg").textContent = CH.t("complain_need"); return; }
    K.go("complaintContact");
  }

  /* ---------- the call-back phone (optional) ---------- */

  function buildPad() {
    var pad = CH.clear(CH.$("#cpPad"));
    ["1", "2", "3", "4", "5", "6", "7", "8", "9", "back", "0", "clear"].forEach(function (k) {
      var fn = k === "back" || k === "clear";
      pad.appendChild(CH.el("button", {
        type: "button", class: "key" + (fn ? " fn" : ""), "data-cp": k, "data-t": fn ? "key_" + k : null,
        text: fn ? CH.t("key_" + k) : k, onclick: function () { type(k); }
      }));
    });
  }

  function type(k) {
    if (k === "back") cp.phone = cp.phone.slice(0, -1);
    else if (k === "clear") cp.phone = "";
    else if (cp.phone.length < MOST_DIGITS) cp.phone += k;
    CH.$("#cpSendMsg").textContent = "";
    renderContact();
  }

  function onHardKey(e) {
    if (K.st.current !== "scrComplaintContact" || e.defaultPrevented) return;
    if (/^[0-9]$/.test(e.key)) type(e.key);
    else if (e.key === "Backspace") type("back");
    else if (e.key === "Enter" && !CH.$("#cpSend").disabled) send();
  }

  function phoneOk() { return !cp.phone || cp.phone.length >= LEAST_DIGITS; }

  function renderContact() {
    var entry = CH.clear(CH.$("#cpEntry"));
    entry.appendChild(cp.phone ? document.createTextNode(cp.phone) : CH.el("span", { class: "ph", text: CH.t("complain_no_phone") }));
    var fb = CH.$("#cpFeedback");
    fb.textContent = !cp.phone ? CH.t("complain_phone_optional") :
      phoneOk() ? CH.t("complain_phone_n", { n: cp.phone.length }) : CH.t("complain_phone_short", { n: LEAST_DIGITS });
    fb.className = "feedback " + (phoneOk() ? "info" : "bad");
    CH.$("#cpSend").textContent = CH.t(cp.phone ? "complain_send" : "complain_send_anon");
    CH.$("#cpSend").disabled = !phoneOk() || sending;
    document.querySelectorAll("#cpPad .key:not(.fn)").forEach(function (b) { b.disabled = cp.phone.length >= MOST_DIGITS; });
  }

  /* ---------- sending, and the answer ---------- */

  function send() {
    var text = composed();
    if (sending || !phoneOk()) return;
    if (!text) { K.go("complaint"); CH.$("#cpMsg").textContent = CH.t("complain_need"); return; }
    var body = { text: text };
    if (cp.window !== null) body.window = cp.window;
    if (cp.phone) body.contact = cp.phone;
    sending = true;
    renderContact();
    CH.$("#cpSendMsg").textContent = CH.t("complain_sending");
    CH.api("POST", "/api/complaints", body, K.token).then(function (res) {
      sending = false;
      if (K.st.current !== "scrComplaintContact") return;  // the citizen has gone (idle): say nothing to the next
      renderContact();
      if (res.ok && res.data && res.data.complaint) {
        var c = res.data.complaint;
        cp.filed = { id: c.follow_up || c.id, due_at: c.due_at, phone: !!cp.phone };
        renderFiled();
        K.show("scrComplained");
        K.startCountdown();
        return;
      }
      CH.$("#cpSendMsg").textContent = res.status === 429 ? tooFast(res) : CH.t("complain_failed", { msg: CH.errorText(res) });
    });
  }

  function renderFiled() {
    var f = cp.filed;
    if (!f) return;
    CH.$("#cpId").textContent = CH.t("complained_id", { id: f.id });
    var date = dueDate(f.due_at);
    CH.$("#cpDue").textContent = date ? CH.t("complained_due", { date: date }) : CH.t("complained_soon");
    CH.$("#cpAfter").textContent = CH.t(f.phone ? "complained_call" : "complained_no_call");
  }

  /* "请 2 分钟后再试": a 429's wait (the error's retry_after, in seconds) in words */
  function tooFast(res) {
    var s = res && res.error && typeof res.error.retry_after === "number" ? Math.ceil(res.error.retry_after) : null;
    if (s === null) return CH.t("complain_too_fast");
    return s >= 60 ? CH.t("complain_too_fast_min", { n: Math.ceil(s / 60) }) : CH.t("complain_too_fast_s", { n: s });
  }

  /* "12月7日（星期一）" / "Monday 7 Dec": a due date as the server wrote it (ISO, the hall's offset) */
  function dueDate(iso) {
    var p = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(iso || ""));
    if (!p) return null;
    var d = new Date(Date.UTC(+p[1], +p[2] - 1, +p[3]));
    return CH.t("due_date", { m: +p[2], d: +p[3], mon: d.toLocaleDateString("en-GB", { timeZone: "UTC", month: "short" }),
      wd: d.toLocaleDateString(CH.lang === "en" ? "en-GB" : "zh-CN", { timeZone: "UTC", weekday: "long" }) });
  }
})();
