/* The live WebSocket every clearhall screen keeps open (CH.Live), with polling
 * while it is down. Loaded after common.js. */
(function (root) {
  "use strict";

  var CH = root.CH;

  /* ---------- live socket ---------- */

  /* new CH.Live("token=...", handlers) keeps one WebSocket open to /ws,
   * reconnecting with exponential backoff (1 s doubling to 30 s, with jitter).
   * Each (re)connect starts with a fresh snapshot, so nothing is missed.
   * handlers:
   *   onstate(state)  the whole queue, GET /api/queue's fields: the snapshot,
   *                   and every queue.changed (the server sends one after each
   *                   burst of events). A page takes it as its state as it is;
   *                   it never re-reads /api/queue while the socket is up.
   *   onevent(msg)    every event, queue.changed included, for what an event
   *                   means by itself (announce a call, open the rating pad).
   *   onstatus(s)     "connecting" | "online" | "offline" | "polling" | "unauthorized".
   * When a socket closes before it ever opened, a plain GET of the same /ws
   * address tells a refused credential (401) from a network failure. */
  /* True for a message that carries the whole queue: the snapshot, or a
   * queue.changed event (both have GET /api/queue's fields). */
  CH.isQueueState = function (msg) {
    if (!msg || !(msg.type === "snapshot" || (msg.type === "event" && msg.event === "queue.changed"))) return false;
    return Array.isArray(msg.services) && Array.isArray(msg.windows);
  };

  /* A window.changed event's window, as /api/queue shows it ({number, status,
   * staff, current, ...}), or null. */
  CH.changedWindow = function (msg) {
    var w = msg && msg.event === "window.changed" ? msg.state : null;
    if (!w || typeof w !== "object") return null;
    if (w.number === undefined) w.number = msg.window;
    return typeof w.number === "number" ? w : null;
  };

  CH.Live = function (query, handlers) {
    this.query = query;
    this.h = handlers || {};
    this.delay = 1000;
    this.ws = null; this.stopped = false; this.pollOk = null; this.pollTimer = null;
    this.status = this.wsStatus = "connecting";
    this.connect();
  };
  /* While the socket is down, handlers.poll() (a function returning a Promise
   * of true/false) is called every handlers.pollMs (default 5 s) so a screen
   * keeps showing fresh data over plain HTTP; the page is "offline" only when
   * that fails too, and "polling" while it works. */
  CH.Live.prototype.startPolling = function () {
    var self = this;
    if (!self.h.poll || self.pollTimer) return;
    var run = function () {
      if (self.stopped || self.wsStatus === "online") { self.stopPolling(); return; }
      Promise.resolve(self.h.poll()).then(function (ok) {
        self.pollOk = !!ok;
        self.refreshStatus();
      }, function () { self.pollOk = false; self.refreshStatus(); });
    };
    run();
    self.pollTimer = setInterval(run, self.h.pollMs || 5000);
  };
  CH.Live.prototype.stopPolling = function () {
    clearInterval(this.pollTimer);
    this.pollTimer = this.pollOk = null;
  };
  CH.Live.prototype.refreshStatus = function () {
    var s = this.wsStatus;
    if (s === "offline" && this.pollOk) s = "polling";
    this.setStatus(s);
  };
  CH.Live.prototype.url = function () {
    var proto = root.location.protocol === "https:" ? "wss:" : "ws:";
    return proto + "//" + root.location.host + "/ws?" + this.query;
  };
  CH.Live.prototype.setWs = function (s) {
    this.wsStatus = s;
    if (s === "online") this.stopPolling();
    else if (s === "offline") this.startPolling();
    this.refreshStatus();
  };
  CH.Live.prototype.setStatus = function (s) {
    if (this.status === s) return;
    this.status = s;
    if (this.h.onstatus) this.h.onstatus(s);
  };
  CH.Live.prototype.connect = function () {
    var self = this;
    if (self.stopped) return;
    var opened = false;
    var ws;
    try { ws = new WebSocket(self.url()); } catch (e) { self.retry(false); return; }
    self.ws = ws;
    ws.onopen = function () { opened = true; self.delay = 1000; self.setWs("online"); };
    ws.onmessage = function (ev) {
      var msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (CH.isQueueState(msg) && self.h.onstate) self.h.onstate(msg);
      if (msg.type === "event" && self.h.onevent) self.h.onevent(msg);
    };
    ws.onclose = function () {
      if (self.ws !== ws) return;
      self.ws = null;
      self.retry(opened);
    };
    ws.onerror = function () { /* onclose follows */ };
  };
  CH.Live.prototype.retry = function (wasOpen) {
    var self = this;
    if (self.stopped) return;
    var again = function () {
      self.setWs("offline");
      var wait = self.delay * (0.75 + Math.random() * 0.5);
      self.delay = Math.min(self.delay * 2, 30000);
      self.timer = setTimeout(function () { self.connect(); }, wait);
    };
    if (wasOpen) { again(); return; }
    fetch("/ws?" + self.query, { cache: "no-store" }).then(function (resp) {
      if (resp.status === 401 || resp.status === 403) {
        self.stopPolling();
        self.setWs("unauthorized");
        // keep trying slowly: the hall file may be reloaded with this token
        self.delay = 30000;
        self.timer = setTimeout(function () { self.connect(); }, 30000);
      } else again();
    }, again);
  };
  CH.Live.prototype.reconnectNow = function () {
    clearTimeout(this.timer);
    this.delay = 1000;
    if (!this.ws) this.connect();
  };
  CH.Live.prototype.close = function () {
    this.stopped = true;
    this.stopPolling();
    clearTimeout(this.timer);
    if (this.ws) { var ws = this.ws; this.ws = null; ws.close(); }
  };
})(window);
