/* The window screen above each counter: every word it shows, Chinese first, English second (see /static/shared/strings.js). */
window.CLEARHALL_STRINGS.window = {
    window_title: { zh: "{n}号窗口", en: "Window {n}" },
    now_serving: { zh: "当前号码", en: "Now serving" },
    none: { zh: "等待叫号", en: "Waiting" },
    staff_label: { zh: "工作人员", en: "Staff" },
    no_staff: { zh: "暂无工作人员", en: "Unstaffed" },
    paused: { zh: "暂停服务", en: "Service paused" },
    closed: { zh: "本窗口暂未开放", en: "This window is closed" },
    please_rate: { zh: "请对本次服务进行评价", en: "Please rate this service" },
    please_rate_sub: { zh: "请在窗口评价器上点选，谢谢！", en: "Use the rating pad at the counter. Thank you!" },
    photo_alt: { zh: "工作人员照片", en: "Staff photo" },
    bad_window: { zh: "窗口号无效", en: "Invalid window number" },
    bad_window_detail: { zh: "地址应为 /display/window/窗口号", en: "The address should be /display/window/NUMBER" }
};
