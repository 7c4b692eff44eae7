/* Staff console, the right-hand column: the tickets waiting for this window's
 * services (click one to call it out of order), and today's suspended tickets
 * (挂起) of those services — number, what is missing, since when — each with a
 * 回队 button for when its citizen is back (POST requeue: its old place).
 *
 * Both come from GET /api/windows/{n}/waiting, re-read after the snapshot, each
 * queue.changed and each of the console's own calls; the same answer carries
 * the window's current ticket (its call time for the timer, the seconds
 * before 过号), which goes to console.js.
 *
 * Part of /console: loaded before console.js; shares CH.console with it. */
(function () {
  "use strict";
  var CH = window.CH;
  var S = CH.console = CH.console || {};

  S.refreshWaiting = function () {
    var session = S.session();
    if (!session || !session.window) return;
    var n = session.window;
    CH.api("GET", "/api/windows/" + n + "/waiting", null, session.token).then(function (res) {
      if (res.status === 401) { S.expired(); return; }
      if (!S.session() || S.session().window !== n) return;  // signed out meanwhile
      if (!res.ok || !res.data) { failed(res); return; }
      renderWaiting(res.data.tickets || []);
      renderSuspended(res.data.suspended || [], n);
      if ("current" in res.data) S.takeCurrent(res.data.current, res.data.no_show_in_s);
    });
  };

  /* " green" for the green channel, " appt" for a checked-in booking (预约, called
   * with the green channel but not of it), "" for the rest. */
  S.categoryClass = function (cat) {
    if (cat === "appointment") return " appt";
    return CH.isGreen(cat) ? " green" : "";
  };

  function failed(res) {
    var text = CH.errorText(res);
    [CH.$("#waiting"), CH.$("#suspended")].forEach(function (ol) {
      CH.clear(ol).appendChild(CH.el("li", { class: "empty", text: text }));
    });
  }

  function renderWaiting(list) {
    var ol = CH.clear(CH.$("#waiting"));
    CH.$("#waitingCount").textContent = list.length ? CH.t("waiting_count", { n: list.length }) : "";
    if (!list.length) { ol.appendChild(CH.el("li", { class: "empty", text: CH.t("waiting_none") })); return; }
    list.forEach(function (t) {
      ol.appendChild(CH.el("li", { "data-number": t.number, title: CH.t("btn_call"), onclick: function () { S.askCall(t.number); } }, [
        CH.el("span", { class: "num", text: t.number }),
        CH.el("span", { class: "since", text: CH.fmtTime(t.issued_at) }),
        CH.el("span", { class: "cat" + S.categoryClass(t.category), text: CH.categoryName(t.category) })
      ]));
    });
  }

  function renderSuspended(list, here) {
    var ol = CH.clear(CH.$("#suspended"));
    CH.$("#suspendedCount").textContent = list.length ? String(list.length) : "";
    if (!list.length) { ol.appendChild(CH.el("li", { class: "empty", text: CH.t("suspended_none") })); return; }
    list.forEach(function (t) {
      var missing = (t.missing && t.missing.length ? t.missing.join("、") : t.reason) || "";
      var when = [t.suspended_at ? CH.t("suspended_since", { t: CH.fmtTime(t.suspended_at) }) : ""];
      if (t.window && t.window !== here) when.push(CH.t("suspended_where", { n: t.window }));
      ol.appendChild(CH.el("li", { "data-number": t.number }, [
        CH.el("div", { class: "held" }, [
          CH.el("span", { class: "num", text: t.number }),
          CH.el("span", { class: "since", text: when.filter(Boolean).join(" · ") })
        ]),
        CH.el("div", { class: "missing", text: missing }),
        CH.el("button", { type: "button", class: "btn small requeue", "data-requeue": t.number,
          text: CH.t("btn_requeue"), onclick: function () { S.post("requeue", { number: t.number }); } })
      ]));
    });
  }
})();
