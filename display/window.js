/* Window screen (/display/window/{n}#device=TOKEN): the current number at this
 * counter, who is serving (photo slot, name, 党员示范岗 badge), the hall's clock
 * and, after a finish, "请对本次服务进行评价". Keys: L switches language. */
(function () {
  "use strict";
  var CH = window.CH;
  CH.page = "window";

  var RATE_PROMPT_MS = 45000;
  var m = window.location.pathname.match(/\/display\/window\/(\d+)\/?$/);
  var n = m ? Number(m[1]) : null;
  var token = CH.deviceToken("window");
  var me = null; // this window's entry of the queue's "windows"
  var promptTimer = null;

  CH.applyStrings();
  tickClock();
  setInterval(tickClock, 1000);
  document.addEventListener("keydown", function (e) { if (e.key === "l" || e.key === "L") CH.toggleLang(); });
  CH.onlang = function () { tickClock(); render(); };
  render();

  if (n === null) { CH.showBlockerKeys("bad_window", "bad_window_detail"); return; }
  if (!token) { CH.showBlockerKeys("no_token_title", "no_token_detail"); return; }

  // the hall's clock (its timezone, the server's time), read again now and then against drift
  var readClock = function () { CH.readHall(token).then(tickClock); };
  readClock();
  setInterval(readClock, 10 * 60 * 1000);

  // The snapshot and every queue.changed carry every window: this one is taken
  // from them. Events for this window act at once.
  new CH.Live("token=" + encodeURIComponent(token), {
    poll: function () {
      return CH.api("GET", "/api/queue", null, token).then(function (res) {
        if (!res.ok) return false;
        var before = me && me.current ? me.current.number : null;
        take(res.data);
        var after = me && me.current ? me.current.number : null;
        // without events, a finish shows as the current number going away
        if (before && !after) showPrompt();
        if (after && after !== before) hidePrompt();
        return true;
      });
    },
    pollMs: 3000,
    onstatus: function (s) {
      CH.$("#offline").hidden = s !== "offline";
      if (s === "unauthorized") CH.showBlockerKeys("bad_token_title", "bad_token_detail");
      else CH.hideBlocker();
    },
    onstate: take,
    onevent: function (msg) {
      if (msg.window !== n) return;
      if (msg.event === "ticket.called" && msg.ticket) {
        hidePrompt();
        if (me) me.current = { number: msg.ticket.number };
        render();
      }
      if (msg.event === "ticket.finished" || msg.event === "rating.requested") showPrompt();
      var changed = CH.changedWindow(msg);
      if (changed) takeWindow(changed);
    }
  });

  function take(data) {
    if (!data || !Array.isArray(data.windows)) return;
    takeWindow(data.windows.filter(function (w) { return w.number === n; })[0] || null);
  }

  // The rating prompt follows events (and polling), not the pushed state: a
  // queue.changed read just before a finish may still show the finished number.
  function takeWindow(w) {
    me = w;
    render();
  }

  function render() {
    CH.$("#winTitle").textContent = n === null ? "" : CH.t("window_title", { n: n });
    var status = me ? me.status || "closed" : "closed";
    var cur = CH.$(".current");
    cur.className = "current " + status;
    var number = CH.$("#number"), state = CH.$("#state");
    if (status === "closed") { number.textContent = CH.t("closed"); state.textContent = ""; }
    else if (status === "paused") { number.textContent = CH.t("paused"); state.textContent = me && me.pause_reason ? me.pause_reason : ""; }
    else {
      number.textContent = me && me.current ? me.current.number : CH.t("none");
      cur.classList.toggle("empty", !(me && me.current));
      state.textContent = me && me.current && me.current.status ? CH.t("tstatus_" + me.current.status) : "";
    }
    var staff = me && me.staff;
    CH.$("#staffName").textContent = staff ? staff.name : CH.t("no_staff");
    CH.$("#badge").hidden = !(staff && staff.party_member);
    var photo = CH.$("#photo");
    photo.setAttribute("aria-label", CH.t("photo_alt"));
    if (staff && staff.photo_url) {
      photo.style.backgroundImage = "url(\"" + String(staff.photo_url).replace(/["\\]/g, "") + "\")";
      photo.textContent = "";
    } else {
      photo.style.backgroundImage = "";
      photo.textContent = staff && staff.name ? staff.name.slice(0, 1) : "";
    }
  }

  function showPrompt() {
    CH.$("#ratePrompt").hidden = false;
    clearTimeout(promptTimer);
    promptTimer = setTimeout(hidePrompt, RATE_PROMPT_MS);
  }
  function hidePrompt() { clearTimeout(promptTimer); CH.$("#ratePrompt").hidden = true; }
  function tickClock() { CH.$("#clock").textContent = CH.clockText(); }
})();
