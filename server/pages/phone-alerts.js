/* 叫号提醒 on the phone page: sound and vibration, unlocked by one tap (CH.Alerts).
 *
 * Browsers keep a page silent until the person has touched it: no audio, no
 * vibration. So the tap on 开启叫号提醒 resumes the page's audio context, plays a
 * short, quiet tone made in the page (WebAudio: no sound file is fetched) and
 * vibrates briefly; from then on the page may ring by itself while it is open.
 * The choice is kept for this ticket in localStorage (a page opened again asks
 * for one tap anywhere to bring the sound back: browsers want a fresh gesture
 * per page). Each alert rings once: the early warning once per ticket, the
 * call once per call (a recall is a new one). Loaded after common.js. */
(function (root) {
  "use strict";

  var CH = root.CH;
  var PREFIX = "clearhall.alerts.";
  var KEEP_MS = 2 * 24 * 3600 * 1000; // a ticket's choice is forgotten after two days
  var ctx = null;

  function store() { try { return root.localStorage || null; } catch (e) { return null; } }
  function read(id) {
    var s = store();
    try { return (s && JSON.parse(s.getItem(PREFIX + id) || "null")) || {}; } catch (e) { return {}; }
  }
  function write(id, value) {
    var s = store();
    try { if (s) s.setItem(PREFIX + id, JSON.stringify(value)); } catch (e) { /* private mode: this visit only */ }
  }
  function forgetOld() {
    var s = store();
    if (!s) return;
    try {
      for (var i = s.length - 1; i >= 0; i--) {
        var k = s.key(i);
        if (!k || k.indexOf(PREFIX) !== 0) continue;
        var v = JSON.parse(s.getItem(k) || "null");
        if (!v || !v.at || Date.now() - v.at > KEEP_MS) s.removeItem(k);
      }
    } catch (e) { /* nothing to tidy */ }
  }

  function audio() {
    var AC = root.AudioContext || root.webkitAudioContext;
    if (!ctx && AC) { try { ctx = new AC(); } catch (e) { ctx = null; } }
    return ctx;
  }
  function resume() {
    var c = audio();
    if (!c || !c.resume) return;
    try { var p = c.resume(); if (p && p.catch) p.catch(function () {}); } catch (e) { /* not allowed yet */ }
  }
  /* One soft-edged sine tone: `at` seconds from now, `dur` long, at `vol` (0–1). */
  function tone(freq, at, dur, vol) {
    var c = audio();
    if (!c) return;
    try {
      var t = c.currentTime + at, osc = c.createOscillator(), gain = c.createGain();
      osc.type = "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(vol, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + dur);
      osc.connect(gain);
      gain.connect(c.destination);
      osc.start(t);
      osc.stop(t + dur + 0.05);
    } catch (e) { /* no sound this time; the banner still shows */ }
  }
  function buzz(pattern) {
    var nav = root.navigator;
    if (nav && nav.vibrate) { try { nav.vibrate(pattern); } catch (e) { /* not allowed */ } }
  }

  CH.Alerts = function (ticketId) {
    this.id = ticketId;
    forgetOld();
    this.state = read(ticketId);
  };
  var P = CH.Alerts.prototype;
  P.save = function () { this.state.at = Date.now(); write(this.id, this.state); };
  P.on = function () { return !!this.state.on; };
  /* Whether this browser can do anything beyond the banner. */
  P.capable = function () { return !!(root.AudioContext || root.webkitAudioContext || (root.navigator && root.navigator.vibrate)); };
  /* Opted in, but the sound is still locked (the page was opened again): one tap brings it back. */
  P.locked = function () {
    if (!this.on() || !(root.AudioContext || root.webkitAudioContext)) return false;
    return !ctx || ctx.state !== "running";
  };
  /* Only ever from a tap: the browser lets sound and vibration start here. */
  P.enable = function () {
    this.state.on = true;
    this.save();
    this.unlock();
    buzz(80);
  };
  P.unlock = function () {
    resume();
    tone(880, 0, 0.12, 0.04); // quiet: a confirmation, and what unlocks the page's audio
  };
  P.disable = function () { this.state.on = false; this.save(); };
  /* The early warning: rings once per ticket, and only when opted in. True when it rang. */
  P.near = function () {
    if (this.state.near) return false;
    this.state.near = true;
    this.save();
    if (!this.on()) return false;
    resume();
    tone(660, 0, 0.3, 0.35);
    tone(880, 0.35, 0.45, 0.35);
    buzz([250, 120, 250]);
    return true;
  };
  /* The call: rings once per call (`mark` names it), louder and longer. True when it rang. */
  P.called = function (mark) {
    if (this.state.called === mark) return false;
    this.state.called = mark;
    this.state.near = true; // called: any warning now would come too late
    this.save();
    if (!this.on()) return false;
    resume();
    for (var i = 0; i < 3; i++) {
      tone(988, i * 1.3, 0.35, 0.6);
      tone(1319, i * 1.3 + 0.4, 0.6, 0.6);
    }
    buzz([500, 200, 500, 200, 900]);
    return true;
  };
})(window);
