/* The wall screen's own words (数据大屏, /supervisor/wall), Chinese first, English
 * second; added to the supervisor's table (supervisor-strings.js), whose words
 * for the charts, cards, signals, services and windows the wall shares. */
(function (T) {
  var words = {
    wall_title: { zh: "数据大屏", en: "Hall at a glance" },
    wall_login_title: { zh: "数据大屏 · 主管登录", en: "Wall screen · supervisor log-in" },
    wall_login_note: {
      zh: "大屏显示工作人员姓名和考核数据，需用主管或管理员账号登录；登录在本浏览器标签页内有效。",
      en: "The wall shows staff names and figures: log in as a supervisor or administrator. The log-in lasts while this browser tab stays open."
    },
    wall_need_supervisor: { zh: "需要主管权限：{name} 不是主管或管理员账号", en: "Supervisor rights needed: {name} is not a supervisor or administrator" },
    wall_panel_day: { zh: "今日概况", en: "Today" },
    wall_panel_satisfaction: { zh: "满意度", en: "Satisfaction" },
    wall_panel_integrity: { zh: "红黄牌与预警", en: "Cards and signals" },
    wall_panel_queue: { zh: "实时排队", en: "The queue now" },
    wall_kpi_issued: { zh: "今日取号", en: "Issued today" },
    wall_kpi_finished: { zh: "已办结", en: "Finished" },
    wall_kpi_waiting: { zh: "正在等候", en: "Waiting now" },
    wall_kpi_avg_wait: { zh: "平均等候", en: "Average wait" },
    wall_kpi_p90_wait: { zh: "90% 等候", en: "90th pct. wait" },
    wall_kpi_good: { zh: "好评率", en: "Good ratings" },
    wall_kpi_rated: { zh: "已评价 / 办结", en: "Rated / finished" },
    wall_kpi_bad: { zh: "差评", en: "Bad ratings" },
    wall_kpi_cases: { zh: "待办整改", en: "Cases to do" },
    wall_of: { zh: "{part} / {whole}", en: "{part} / {whole}" },
    wall_more: { zh: "另有 {n} 条", en: "{n} more" },
    wall_more_services: { zh: "另有 {n} 项业务", en: "{n} more services" },
    wall_none_yet: { zh: "暂无", en: "Not available yet" }
  };
  Object.keys(words).forEach(function (k) { T[k] = words[k]; });
})(window.CLEARHALL_STRINGS.supervisor);
