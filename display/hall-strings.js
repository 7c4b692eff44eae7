/* The hall screen: every word it shows, Chinese first, English second (see /static/shared/strings.js). */
window.CLEARHALL_STRINGS.hall = {
    party_badge_short: { zh: "党员示范岗", en: "Party member" },
    hall_default_name: { zh: "政务服务中心", en: "Government Service Center" },
    hotline_label: { zh: "监督投诉热线", en: "Complaints hotline" },
    now_title: { zh: "正在叫号", en: "Now calling" },
    now_none: { zh: "暂无叫号", en: "No calls yet" },
    now_to_before: { zh: "请到 ", en: "Please go to window " },
    now_to_after: { zh: " 号窗口办理", en: "" },
    recall: { zh: "重呼", en: "Recall" },
    recent_title: { zh: "最近叫号", en: "Recent calls" },
    recent_none: { zh: "今日尚未叫号", en: "No calls yet today" },
    services_title: { zh: "等候情况", en: "Waiting" },
    col_service: { zh: "业务", en: "Service" },
    col_waiting: { zh: "等候人数", en: "Waiting" },
    col_wait: { zh: "预计等候", en: "Est. wait" },
    services_none: { zh: "暂无业务信息", en: "No services" },
    windows_title: { zh: "窗口状态", en: "Windows" },
    no_staff: { zh: "暂无工作人员", en: "Unstaffed" },
    serving_n: { zh: "当前 {n}", en: "Now {n}" },
    policy_label: { zh: "叫号规则", en: "Calling rule" },
    policy_fallback: {
      zh: "绿色通道（老年人、残疾人、孕妇、军人）优先叫号；每个窗口连续叫 {n} 位绿色通道后叫一位普通号；同类按取号先后。",
      en: "Green channel (seniors, people with disabilities, pregnant women, military) first; after {n} in a row a standard ticket is called; otherwise first come, first served."
    },
    notices_label: { zh: "清廉知识", en: "Integrity" },
    notice_default_title: { zh: "清廉大厅", en: "Clean hall" },
    notice_default_body: {
      zh: "办事不求人，服务不收费。工作人员不得收受任何礼品礼金。如遇索拿卡要，请拨打 12345 投诉。",
      en: "No favours needed, no fees for service. Staff may not accept gifts. Report any request for favours to 12345."
    },
    extended_tag: { zh: "延时服务", en: "Extended hours" },
    extended_until: { zh: "至 {t}", en: "until {t}" },
    extended_sep: { zh: "、", en: ", " },
    audio_hint: { zh: "语音播报被浏览器阻止：点击屏幕任意处开启", en: "Voice blocked by the browser: click anywhere to enable" }
};
