/* The window's rating pad: every word it shows, Chinese first, English second (see /static/shared/strings.js). */
window.CLEARHALL_STRINGS.rate = {
    idle_title: { zh: "欢迎评价", en: "Rate our service" },
    idle_sub: { zh: "办结后请在此评价本次服务", en: "After your business is done, please rate it here" },
    ask_title: { zh: "请对本次服务进行评价", en: "Please rate this service" },
    ask_ticket: { zh: "号码 {number} · 工作人员 {staff}", en: "Ticket {number} · Staff {staff}" },
    thanks: { zh: "感谢您的评价！", en: "Thank you for your rating!" },
    thanks_bad: { zh: "感谢反馈，我们将尽快回访整改。", en: "Thank you. We will follow up and put it right." },
    already: { zh: "本次服务已评价", en: "This service has already been rated" },
    failed: { zh: "提交失败：{msg}", en: "Could not submit: {msg}" },
    window_label: { zh: "{n}号窗口 评价器", en: "Window {n} rating pad" },
    sending: { zh: "正在提交……", en: "Sending…" },
    bad_window: { zh: "窗口号无效", en: "Invalid window number" },
    bad_window_detail: { zh: "地址应为 /rate/窗口号#device=令牌", en: "The address should be /rate/NUMBER#device=TOKEN" },
    closed: { zh: "已评价，谢谢", en: "Already rated. Thank you" }
};
