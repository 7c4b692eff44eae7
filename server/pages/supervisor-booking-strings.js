/* The words of the dashboard's 便民服务 view (/supervisor#booking: 今日预约,
 * 延时服务, 帮代办人员), Chinese first, English second; added to the
 * supervisor's table (supervisor-strings.js). */
(function (T) {
  var words = {
    nav_booking: { zh: "便民服务", en: "Bookings" },

    /* 今日预约 (supervisor-booking.js) */
    bk_title: { zh: "今日预约", en: "Today's bookings" },
    bk_title_day: { zh: "{d} 预约", en: "Bookings on {d}" },
    bk_day: { zh: "日期", en: "Day" },
    bk_today: { zh: "今天", en: "Today" },
    bk_booked: { zh: "已预约", en: "Booked" },
    bk_capacity: { zh: "名额", en: "Places" },
    bk_arrived: { zh: "已签到", en: "Arrived" },
    bk_no_shows: { zh: "爽约", en: "No-shows" },
    bk_cancelled: { zh: "已取消", en: "Cancelled" },
    bk_slot: { zh: "时段", en: "Slot" },
    bk_left: { zh: "余 {n}", en: "{n} left" },
    bk_full: { zh: "已满", en: "full" },
    bk_none: { zh: "当日没有可预约的业务", en: "No service takes bookings on this day" },
    bk_no_slots: { zh: "当日不开放预约", en: "No slots on this day" },
    bk_all_slots: { zh: "显示空闲时段", en: "Show empty slots" },
    bk_quiet: { zh: "另有 {n} 个时段无人预约（共 {c} 个名额）", en: "{n} more slots with no booking ({c} places)" },
    bk_quiet_all: { zh: "{n} 个时段均无人预约（共 {c} 个名额）", en: "No booking in any of its {n} slots ({c} places)" },
    bk_missing: { zh: "暂无（本服务器尚未提供预约统计）", en: "Not available (this server does not report bookings yet)" },
    bk_updated: { zh: "更新于 {t} · 有人签到时自动刷新，每分钟刷新", en: "Updated {t} · refreshed on each check-in and every minute" },

    /* 延时服务 (supervisor-hours.js) */
    ex_title: { zh: "延时服务", en: "Extended hours" },
    ex_note: {
      zh: "下班后，取号机只为延时服务中的业务取号，直到所定时间；大厅屏幕同时显示。",
      en: "After closing time the kiosks issue numbers only for the services under extended hours, until the time set; the hall screen shows it."
    },
    ex_none: { zh: "当前没有延时服务", en: "No extended hours now" },
    ex_until: { zh: "至 {t}", en: "until {t}" },
    ex_by: { zh: "{name} {t} 开启", en: "opened by {name} at {t}" },
    ex_end: { zh: "结束", en: "End" },
    ex_end_confirm: { zh: "确认结束？", en: "End now?" },
    ex_ended: { zh: "已结束延时服务：{what}", en: "Extended hours ended: {what}" },
    ex_open_title: { zh: "开启延时服务", en: "Open extended hours" },
    ex_services: { zh: "业务", en: "Services" },
    ex_until_label: { zh: "延时至（今日，大厅时间）", en: "Until (today, hall time)" },
    ex_open: { zh: "开启", en: "Open" },
    ex_opened: { zh: "已开启延时服务：{what}，至 {t}", en: "Extended hours opened: {what}, until {t}" },
    ex_need_service: { zh: "请至少选择一项业务", en: "Tick at least one service" },
    ex_need_until: { zh: "请填写结束时间", en: "Enter the time it ends" },

    /* 帮代办人员 (supervisor-proxies.js) */
    px_title: { zh: "帮代办人员", en: "Registered proxies" },
    px_count: { zh: "共 {n} 人", en: "{n} registered" },
    px_note: {
      zh: "登记在册的帮办代办员为群众代为取号，不计入黄牛预警；证件号只显示脱敏后的形式。",
      en: "Registered proxies take numbers for citizens without raising scalper signals; ID numbers are only ever shown masked."
    },
    px_none: { zh: "尚未登记帮代办人员", en: "No proxy registered yet" },
    px_from_file: { zh: "配置文件", en: "hall file" },
    px_from_file_note: { zh: "由大厅配置文件登记，请在配置文件中修改", en: "Registered by the hall file: change it there" },
    px_added: { zh: "{name} {d} 登记", en: "added by {name} on {d}" },
    px_add_title: { zh: "登记帮代办人员", en: "Register a proxy" },
    px_name: { zh: "姓名", en: "Name" },
    px_id: { zh: "身份证号", en: "ID number" },
    px_note_label: { zh: "备注", en: "Note" },
    px_note_hint: { zh: "选填，如所属窗口或机构", en: "optional: desk or agency" },
    px_add: { zh: "登记", en: "Register" },
    px_added_msg: { zh: "已登记：{name}（{id}）", en: "Registered: {name} ({id})" },
    px_exists: { zh: "该身份证号已登记为帮代办人员，无需重复登记", en: "This ID number is already registered as a proxy" },
    px_need_name: { zh: "请填写姓名", en: "Enter the name" },
    px_bad_id: { zh: "身份证号有误：请核对 18 位号码", en: "The ID number is not valid: check its 18 characters" },
    px_remove: { zh: "删除", en: "Remove" },
    px_remove_confirm: { zh: "确认删除？", en: "Remove now?" },
    px_removed: { zh: "已删除：{name}", en: "Removed: {name}" },

    /* a signal's rows name the proxy who took a ticket (帮代办) */
    ev_proxy: { zh: "代办人", en: "Proxy" },

    /* the action log's words for these */
    act_extend_hours: { zh: "开启延时服务", en: "Extended hours opened" },
    act_end_extended_hours: { zh: "结束延时服务", en: "Extended hours ended" },
    act_add_proxy: { zh: "登记帮代办人员", en: "Proxy registered" },
    act_remove_proxy: { zh: "删除帮代办人员", en: "Proxy removed" },
    act_appointment_book: { zh: "预约", en: "Booked" },
    act_appointment_cancel: { zh: "取消预约", en: "Booking cancelled" }
  };
  Object.keys(words).forEach(function (k) { T[k] = words[k]; });
})(window.CLEARHALL_STRINGS.supervisor);
