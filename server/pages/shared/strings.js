/* The words every clearhall page shares, Chinese first, English second; each page
 * adds its own table in its own file (kiosk/kiosk-strings.js, display/hall-strings.js,
 * server/pages/console-strings.js, ...). {name} marks a value filled in at run time.
 * A hall that wants other wording edits these files. */
window.CLEARHALL_STRINGS = {
  common: {
    wait_unknown: { zh: "—", en: "—" },
    wait_now: { zh: "不到 1 分钟", en: "under 1 min" },
    wait_none: { zh: "无需等候", en: "no wait" },
    wait_min: { zh: "约 {n} 分钟", en: "about {n} min" },
    wait_hours: { zh: "约 {h} 小时", en: "about {h} h" },
    window_n: { zh: "{n}号窗口", en: "Window {n}" },
    cat_normal: { zh: "普通", en: "Standard" },
    cat_elderly: { zh: "老年人", en: "Senior" },
    cat_disabled: { zh: "残疾人", en: "Disability" },
    cat_pregnant: { zh: "孕妇", en: "Pregnant" },
    cat_military: { zh: "军人", en: "Military" },
    cat_enterprise: { zh: "企业", en: "Business" },
    cat_appointment: { zh: "预约", en: "Appointment" },
    status_open: { zh: "服务中", en: "Open" },
    status_paused: { zh: "暂停服务", en: "Paused" },
    status_closed: { zh: "未开放", en: "Closed" },
    tstatus_waiting: { zh: "等候中", en: "Waiting" },
    tstatus_called: { zh: "已叫号", en: "Called" },
    tstatus_serving: { zh: "办理中", en: "Being served" },
    tstatus_done: { zh: "已办结", en: "Done" },
    tstatus_no_show: { zh: "已过号", en: "Missed" },
    tstatus_suspended: { zh: "已挂起", en: "On hold" },
    party_badge: { zh: "党员示范岗", en: "Party-member model post" },
    offline: { zh: "网络连接中断，正在重新连接……", en: "Connection lost — reconnecting…" },
    err_network: { zh: "无法连接服务器，请稍后再试", en: "Cannot reach the server. Please try again." },
    err_unauthorized: { zh: "未登录或凭证无效", en: "Not logged in, or the credential is not valid" },
    err_forbidden: { zh: "没有权限进行此操作", en: "Not allowed" },
    err_rate_limited: { zh: "操作过于频繁，请稍后再试", en: "Too many attempts. Please wait a moment and try again." },
    err_unavailable: { zh: "系统暂时无法处理，请稍后再试", en: "The system cannot take this right now. Please try again shortly." },
    err_request_timeout: { zh: "请求超时，请重试", en: "The request took too long. Please try again." },
    err_too_large: { zh: "提交的内容过大", en: "What was sent is too large" },
    err_internal_error: { zh: "系统出错，请联系工作人员", en: "Something went wrong. Please ask a member of staff." },
    err_invalid_json: { zh: "页面发送的数据有误，请刷新页面", en: "The page sent malformed data. Please reload." },
    err_generic: { zh: "操作失败（{status}）", en: "Failed ({status})" },
    no_token_title: { zh: "本设备未配置", en: "This device is not set up" },
    no_token_detail: {
      zh: "页面地址中缺少设备令牌。\n请管理员按“地址#device=令牌”的格式打开本页面（令牌见大厅配置文件）。",
      en: "The page address has no device token.\nAn administrator should open this page as ADDRESS#device=TOKEN (the token is in the hall file)."
    },
    bad_token_title: { zh: "设备令牌无效", en: "Device token not accepted" },
    bad_token_detail: {
      zh: "服务器不接受本设备的令牌。\n请管理员核对大厅配置文件中的设备令牌，并重新打开“地址#device=令牌”。",
      en: "The server does not accept this device's token.\nAn administrator should check the token in the hall file and reopen ADDRESS#device=TOKEN."
    },
    lang_switch: { zh: "English", en: "中文" },
    hotline: { zh: "监督投诉热线 12345", en: "Complaints hotline 12345" },
    rate_5: { zh: "非常满意", en: "Very satisfied" },
    rate_4: { zh: "满意", en: "Satisfied" },
    rate_3: { zh: "基本满意", en: "Acceptable" },
    rate_2: { zh: "不满意", en: "Dissatisfied" },
    rate_1: { zh: "非常不满意", en: "Very dissatisfied" }
  }
};
