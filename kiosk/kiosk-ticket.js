/* The kiosk's ticket screen (#scrTicket): the number, the service and its
 * category (预约 for a checked-in booking, 代办 for a ticket taken for someone
 * else), people ahead, the wait, the QR code of the phone page, 一次性告知, and
 * the printer's state from the ticket's `print` (正在打印 re-read for a few
 * seconds until it changes, 已打印, or a failure with 重新打印).
 * Part of the kiosk: kiosk.js (loaded last) starts it. */
(function () {
  "use strict";
  var CH = window.CH;
  var K = CH.kiosk = CH.kiosk || {};

  var printPoll = null;

  K.ticket = {
    init: function () { CH.$("#reprintBtn").addEventListener("click", reprint); },
    /* a ticket just issued (with its key and url): on screen, the countdown running */
    show: function (t) {
      K.st.ticket = t;
      render();
      K.show("scrTicket");
      K.startCountdown();
      watchPrint();
    },
    onScreen: function (id) { if (id !== "scrTicket") clearInterval(printPoll); },
    rerender: function (c) { if (c === "scrTicket") render(); }
  };

  /* "不动产登记 · 预约 · 代办": the service, then what kind of ticket it is */
  K.ticketKind = function (t, name) {
    var words = [name || t.service_name || t.service || ""];
    if (t.category && t.category !== "normal") words.push(CH.categoryName(t.category));
    if (t.proxy) words.push(CH.t("proxy_tag"));
    return words.join(" · ");
  };

  function render() {
    var t = K.st.ticket;
    if (!t) return;
    CH.$("#tTitle").textContent = CH.t(t.category === "appointment" ? "ticket_title_checkin" : "ticket_title");
    CH.$("#tNumber").textContent = t.number;
    var svc = K.service(t.service);
    CH.$("#tService").textContent = K.ticketKind(t, svc && svc.name);
    CH.$("#scrTicket").setAttribute("data-category", t.category || "normal");
    K.aheadLine(CH.$("#tAhead"), t.ahead);
    CH.$("#tWait").textContent = CH.t("ticket_wait", { w: CH.fmtTicketWait(t) });
    CH.$("#tUnstaffed").hidden = !t.unstaffed;
    var qrBox = CH.clear(CH.$("#tQr"));
    if (t.url && window.qrcode) {
      var qr = window.qrcode(0, "M");
      qr.addData(t.url);
      qr.make();
      qrBox.innerHTML = qr.createSvgTag({ cellSize: 6, margin: 2, scalable: true });
      qrBox.setAttribute("data-url", t.url);
    }
    K.renderGuide(CH.$("#tGuide"), svc);
    renderPrint();
  }

  /* "前面还有 <b>3</b> 人" into `el` */
  K.aheadLine = function (el, n) {
    CH.clear(el);
    var parts = CH.t("ticket_ahead", { n: "\u0000" }).split("\u0000");
    el.appendChild(document.createTextNode(parts[0]));
    el.appendChild(CH.el("b", { text: String(n === undefined || n === null ? "—" : n) }));
    el.appendChild(document.createTextNode(parts[1] || ""));
  };

  /* The print status line of a ticket's `print` ({status, error}). */
  K.printText = function (p) {
    var status = p && p.status ? p.status : "none";
    var text = CH.t("print_" + (["queued", "printed", "failed"].indexOf(status) >= 0 ? status : "none"));
    var fault = status === "failed" && p.error && CH.lookup("print_fault_" + p.error);
    return fault ? CH.t("print_fault_" + p.error) + (CH.lang === "en" ? ". " : "。") + text : text;
  };

  function renderPrint() {
    var p = K.st.ticket && K.st.ticket.print;
    var status = p && p.status ? p.status : "none";
    var box = CH.$("#printBox");
    box.className = "print " + status;
    CH.$("#printText").textContent = K.printText(p);
    CH.$("#reprintBtn").hidden = status !== "failed";
    box.setAttribute("data-status", status);
  }

  /* The printer answers after the ticket: re-read the ticket for a few seconds. A print
   * that failed is retried by the server (after 5 s, 10 s, …): keep looking for a minute,
   * so a slip that came out once the paper was loaded is shown as printed and 重新打印
   * goes away, rather than inviting a second slip. */
  function watchPrint() {
    clearInterval(printPoll);
    var mine = K.st.ticket;
    var first = mine && mine.print && mine.print.status;
    if (first !== "queued" && first !== "failed") return;
    var tries = 0, most = first === "queued" ? 12 : 20, every = first === "queued" ? 1000 : 3000;
    printPoll = setInterval(function () {
      tries += 1;
      if (tries > most || K.st.ticket !== mine) { clearInterval(printPoll); return; }
      CH.api("GET", "/api/tickets/" + encodeURIComponent(mine.id) + "?key=" + encodeURIComponent(mine.key), null, null).then(function (res) {
        if (!res.ok || !res.data || !res.data.ticket || K.st.ticket !== mine) return;
        var pr = res.data.ticket.print;
        if (!pr || !pr.status || pr.status === "queued") return;  // still waiting, or being retried
        if (pr.status === "failed" && mine.print.status === "failed") return;  // as shown already
        mine.print = pr;
        renderPrint();
        if (pr.status === "printed") clearInterval(printPoll);
        else if (first === "queued") watchPrint();  // failed after all: follow its retries
      });
    }, every);
  }

  function reprint() {
    var t = K.st.ticket;
    if (!t) return;
    CH.api("POST", "/api/tickets/" + encodeURIComponent(t.id) + "/reprint", {}, K.token).then(function (res) {
      if (res.ok) {
        t.print = (res.data && res.data.ticket && res.data.ticket.print) || (res.data && res.data.print) || { status: "queued" };
        renderPrint();
        watchPrint();
      } else {
        CH.$("#printText").textContent = CH.t("print_failed") + " (" + CH.errorText(res) + ")";
      }
    });
  }
})();
