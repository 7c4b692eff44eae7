/* Voice announcements: the hall screen's calls, and the kiosk's 长者模式 prompts.
 *
 * clipSequence(number, window) is the same rule as display/voice/__init__.py
 * (a test checks both agree): the chime, then "请 A 零 零 一 号 到 十二 号窗口 办理"
 * twice. VoiceQueue plays announcements one after another, never overlapping:
 * a call that arrives while another is being read waits its turn.
 * Clips live at /static/display/voice/clips/<name>.wav and can be replaced by
 * human recordings of the same name (docs/voice.md).
 */
(function (root) {
  "use strict";

  var CLIP_BASE = "/static/display/voice/clips/";

  function digitClip(d) { return "digit-" + d; }
  function letterClip(l) { return "letter-" + l.toLowerCase(); }

  function numberClips(n) {
    n = Math.floor(Number(n));
    if (!(n >= 0)) return [];
    if (n < 10) return [digitClip(n)];
    if (n < 20) return ["shi"].concat(n % 10 ? [digitClip(n % 10)] : []);
    if (n < 100) {
      var tens = Math.floor(n / 10), ones = n % 10;
      return [digitClip(tens), "shi"].concat(ones ? [digitClip(ones)] : []);
    }
    if (n < 1000) {
      var hundreds = Math.floor(n / 100), rest = n % 100;
      var clips = [digitClip(hundreds), "bai"];
      if (rest === 0) return clips;
      if (rest < 10) return clips.concat([digitClip(0), digitClip(rest)]);
      var t = Math.floor(rest / 10), o = rest % 10;
      return clips.concat([digitClip(t), "shi"]).concat(o ? [digitClip(o)] : []);
    }
    return String(n).split("").map(digitClip);
  }

  function ticketClips(number) {
    var clips = [];
    String(number).toUpperCase().split("").forEach(function (ch) {
      if (ch >= "A" && ch <= "Z") clips.push(letterClip(ch));
      else if (ch >= "0" && ch <= "9") clips.push(digitClip(ch));
    });
    return clips;
  }

  function sentence(number, window) {
    return ["qing"].concat(ticketClips(number), ["hao", "dao"], numberClips(window),
      ["hao-chuangkou", "banli"]);
  }

  function clipSequence(number, window) {
    var once = sentence(number, window);
    return ["chime"].concat(once, once);
  }

  /* Plays announcements in order. play(clipName) must return a Promise that
   * settles when the clip has finished (or failed: a missing clip is skipped,
   * it never blocks the queue). */
  function VoiceQueue(options) {
    options = options || {};
    this.base = options.base || CLIP_BASE;
    this.pending = [];
    this.busy = false;
    this.enabled = options.enabled !== false;
    this.onstate = options.onstate || function () {};
    this.cache = {};
    this.played = []; // names of announcements read, newest last (for tests and the log)
  }

  VoiceQueue.prototype.preload = function (names) {
    var self = this;
    names.forEach(function (n) {
      if (self.cache[n]) return;
      var a = new Audio(self.base + n + ".wav");
      a.preload = "auto";
      self.cache[n] = a;
    });
  };

  VoiceQueue.prototype.playClip = function (name) {
    var self = this;
    return new Promise(function (resolve) {
      var a = self.cache[name] ? self.cache[name].cloneNode() : new Audio(self.base + name + ".wav");
      var done = false;
      function finish() { if (!done) { done = true; resolve(); } }
      a.onended = finish;
      a.onerror = finish;
      // a clip never holds the queue for more than 4 s, even if the audio device stalls
      setTimeout(finish, 4000);
      var p = a.play();
      if (p && p.catch) p.catch(function (err) {
        self.onstate("blocked", err);
        finish();
      });
    });
  };

  VoiceQueue.prototype.announce = function (number, window) {
    this.pending.push({ number: number, window: window, clips: clipSequence(number, window) });
    this.onstate("queued", this.pending.length);
    this.pump();
  };

  VoiceQueue.prototype.pump = function () {
    var self = this;
    if (self.busy || !self.pending.length) return;
    var item = self.pending.shift();
    self.busy = true;
    self.onstate("speaking", item);
    var chain = Promise.resolve();
    if (self.enabled) {
      item.clips.forEach(function (name) {
        chain = chain.then(function () { return self.playClip(name); });
      });
    }
    chain.then(function () {
      self.played.push(item.number + "@" + item.window);
      self.busy = false;
      self.onstate("idle", self.pending.length);
      self.pump();
    });
  };

  var api = {
    CLIP_BASE: CLIP_BASE,
    numberClips: numberClips,
    ticketClips: ticketClips,
    sentence: sentence,
    clipSequence: clipSequence,
    VoiceQueue: VoiceQueue
  };
  root.ClearhallVoice = api;
  if (typeof module === "object" && module.exports) module.exports = api;
})(typeof window !== "undefined" ? window : globalThis);
