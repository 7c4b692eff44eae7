/* Staff console, 延时服务 (extended hours, CONTRACT §12): after closing time the
 * kiosks refuse numbers except for the services of an extended-hours session.
 * H (or the bar's 延时服务 button) opens a dialog: this window's services, all
 * ticked, and until when — today on the hall's clock, an hour from now rounded
 * up to the quarter — sent as POST /api/extended-hours (Enter sends it). The
 * sessions in force for this window's services are listed in it, each with
 * 结束 (DELETE /api/extended-hours/{id}). While one is in force the bar says
 * "延时服务至 19:00". Sessions are read at the start and on each reconnect and
 * followed live (hours.changed); one whose time has passed is dropped here
 * without waiting for the server.
 *
 * Part of /console: loaded before console.js; shares CH.console with it. */
(function () {
  "use strict";
  var CH = window.CH;
  var S = CH.console = CH.console || {};

  var sessions = [];     // in force, hall-wide: [{id, services, until, opened_by, opened_at}]
  var listBox = null;    // the open dialog's list of sessions

  CH.$("#hoursBtn").addEventListener("click", function () { S.askHours(); });
  CH.$("#dlg").addEventListener("close", function () { listBox = null; });
  setInterval(renderHours, 15000);

  S.loadHours = function () {
    var session = S.session();
    if (!session) return;
    CH.api("GET", "/api/extended-hours", null, session.token).then(function (res) {
      if (res.ok && res.data && Array.isArray(res.data.extended)) S.takeHours(res.data.extended);
    });
  };
  S.takeHours = function (list) {
    if (!Array.isArray(list)) return;
    sessions = list;
    renderHours();
  };

  /* The sessions in force that take in a service of this window. */
  function mine() {
    var now = CH.hallNow().getTime(), codes = S.windowServices();
    return sessions.filter(function (s) {
      return Date.parse(s.until) > now && (s.services || []).some(function (c) { return codes.indexOf(c) >= 0; });
    });
  }
  /* "B 不动产登记、D 公积金" */
  function names(codes) {
    var byCode = {};
    S.services().forEach(function (s) { byCode[s.code] = s.name; });
    return (codes || []).map(function (c) { return byCode[c] ? c + " " + byCode[c] : c; }).join("、");
  }

  function renderHours() {
    var chip = CH.$("#hoursChip"), list = mine();
    chip.hidden = !list.length;
    if (list.length) {
      var last = list.reduce(function (a, b) { return Date.parse(b.until) > Date.parse(a.until) ? b : a; });
      chip.textContent = CH.t("hours_chip", { t: CH.fmtTime(last.until) });
      chip.title = list.map(function (s) { return names(s.services) + " · " + CH.t("hours_until", { t: CH.fmtTime(s.until) }); }).join("\n");
    }
    CH.$("#hoursBtn").querySelector(".label").textContent = CH.t("hours_btn");
    if (listBox) renderList(listBox);
  }
  S.renderHours = renderHours;

  /* ---------- the dialog ---------- */

  S.askHours = function () {
    var session = S.session();
    if (!session || !session.window) return;
    if (!S.windowServices().length) {
      // the window's services come with the socket's snapshot: not here yet, so read the queue
      CH.api("GET", "/api/queue", null, session.token).then(function (res) {
        if (res.ok && res.data) S.takeQueue(res.data);
        if (S.windowServices().length) S.askHours();
        else S.flash(res.ok ? CH.t("hours_no_services") : CH.errorText(res), "warn");
      });
      return;
    }
    var codes = S.windowServices();
    var pick = CH.el("div", { class: "hours-services", id: "fHoursServices", role: "group", "aria-labelledby": "fHoursServicesLabel" },
      codes.length ? codes.map(function (c) {
        return CH.el("label", { class: "check" }, [
          CH.el("input", { type: "checkbox", value: c, checked: "checked", "data-service": c }), " " + names([c])
        ]);
      }) : [CH.el("p", { class: "empty", text: CH.t("hours_no_services") })]);
    var until = CH.el("input", { type: "time", id: "fUntil", value: CH.untilDefault() });
    listBox = CH.el("div", { class: "hours-list", id: "hoursList" });
    renderList(listBox);
    var picked = function () {
      return [].slice.call(pick.querySelectorAll("input:checked")).map(function (i) { return i.value; });
    };
    S.dialog(CH.t("hours_title"), [
      CH.el("p", { class: "hours-note", text: CH.t("hours_note") }),
      CH.el("div", {}, [CH.el("div", { class: "label", id: "fHoursServicesLabel", text: CH.t("hours_services") }), pick]),
      S.field("hours_until_label", until),
      listBox
    ], function () {
      if (!picked().length) return CH.t("hours_need_service");
      if (!until.value) return CH.t("hours_need_until");
      return null;
    }, function () {
      var body = { services: picked(), until: CH.untilValue(until.value) };
      return CH.api("POST", "/api/extended-hours", body, S.session().token).then(function (res) {
        if (res.status === 401) { CH.$("#dlg").close(); S.expired(); return null; }
        if (res.ok && res.data && res.data.session) {
          var s = res.data.session;
          sessions = sessions.filter(function (x) { return x.id !== s.id; }).concat([s]);
          S.flash(CH.t("hours_opened", { what: names(s.services), t: CH.fmtTime(s.until) }));
          renderHours();
        }
        return res;
      });
    }, "hours_open");
    until.focus();  // Enter sends: H, Enter opens 延时服务 for the window's services, an hour on
  };

  function renderList(box) {
    CH.clear(box).appendChild(CH.el("div", { class: "label", text: CH.t("hours_in_force") }));
    var list = mine();
    if (!list.length) { box.appendChild(CH.el("p", { class: "empty", text: CH.t("hours_none") })); return; }
    var ul = CH.el("ul");
    var codes = S.windowServices();
    list.forEach(function (s) {
      // one that takes in other windows' services is ended there, or by a supervisor (the server says so too)
      var ours = (s.services || []).every(function (c) { return codes.indexOf(c) >= 0; });
      var end = ours ? CH.el("button", { type: "button", class: "btn small", "data-end": s.id, text: CH.t("hours_end") }) :
        CH.el("span", { class: "who", title: CH.t("hours_not_ours"), text: CH.t("hours_elsewhere") });
      if (ours) end.addEventListener("click", function () { endSession(s, end); });
      ul.appendChild(CH.el("li", { "data-session": s.id }, [
        CH.el("span", { class: "what", text: names(s.services) }),
        CH.el("b", { class: "until", text: CH.t("hours_until", { t: CH.fmtTime(s.until) }) }),
        CH.el("span", { class: "who", text: s.opened_by || "" }),
        end
      ]));
    });
    box.appendChild(ul);
  }

  function endSession(s, btn) {
    btn.disabled = true;
    CH.$("#dlgMsg").textContent = "";
    CH.api("DELETE", "/api/extended-hours/" + s.id, null, S.session().token).then(function (res) {
      if (res.status === 401) { CH.$("#dlg").close(); S.expired(); return; }
      if (!res.ok && res.status !== 404) { btn.disabled = false; CH.$("#dlgMsg").textContent = CH.errorText(res); return; }
      // (404: it had ended already, by its time or someone else)
      sessions = sessions.filter(function (x) { return x.id !== s.id; });
      S.flash(CH.t("hours_ended", { what: names(s.services) }));
      renderHours();
    });
  }
})();
