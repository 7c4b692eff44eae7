"""The sentences of appointments, hours and proxies (CONTRACT §12), in Chinese and English.

A part of the one catalogue (`messages`), kept beside the booking code because
each rule has its own sentence and they grow together. Times in them are
hall-local, "HH:MM" or "MM月DD日 HH:MM".
"""

from __future__ import annotations

from clearhall.server.domain.text import Text

# ---------------------------------------------------------------- hours and 延时服务
CLOSED = Text(
    "现在不是办公时间（{hours}），自助机暂停取号；请在办公时间来办理，或咨询大厅工作人员",
    "The hall is closed now (hours {hours}): kiosks issue no tickets; come back in opening hours,"
    " or ask the staff",
)
BAD_UNTIL = Text("until 应为 HH:MM 或带时区的时间", "until must be HH:MM or an ISO time")
UNTIL_RANGE = Text(
    "延时服务须在现在之后、{most} 小时之内结束", "until must be later than now and within {most} hours"
)
UNKNOWN_SERVICES = Text("未知业务：{codes}", "Unknown services: {codes}")
NOT_YOUR_SERVICES = Text(
    "只能为本人窗口办理的业务开启延时服务", "Staff may extend hours only for their windows' services"
)
NO_SESSION = Text("没有正在进行的这项延时服务", "No such extended-hours session in force")

# ---------------------------------------------------------------- 帮代办
PROXY_NEEDS_APPLICANT = Text(
    "帮代办须同时填写申请人的身份证号", "A proxy ticket needs the applicant's ID number too"
)
PROXY_IS_APPLICANT = Text(
    "代办人与申请人不能是同一人", "The proxy and the applicant must be different people"
)
PROXY_EXISTS = Text("此身份证号已登记为帮代办人员", "This ID number is already a registered proxy")
NO_PROXY = Text("没有这位登记的帮代办人员", "No such registered proxy")
PROXY_IN_FILE = Text(
    "此人登记在大厅配置文件中，请在配置文件中删除", "This proxy is listed in the hall file: remove them there"
)

# ---------------------------------------------------------------- check-in at the kiosk
TOO_MANY_CODES = Text(
    "预约码尝试过于频繁，请 {seconds} 秒后再试或咨询工作人员",
    "Too many booking codes tried here; try again in {seconds} s or ask the staff",
)
EARLY = Text(
    "预约时段 {slot}，请于 {opens} 起签到（可先取普通号）",
    "Your booking is at {slot}: check-in opens at {opens} (or take an ordinary ticket now)",
)
LATE = Text(
    "预约时段 {slot}，签到已于 {closes} 截止，可取普通号排队",
    "Your booking was at {slot}: check-in closed at {closes}; you may take an ordinary ticket",
)
NO_BOOKING = Text("没有这个预约码，请核对后重试", "No booking has this code; check it and try again")
NOT_BOOKED = Text("此预约已{state}", "This booking is already {state}")
BOOKING_STATES = {  # NOT_BOOKED's {state}, by appointments.status
    "checked_in": Text("签到", "checked in"),
    "cancelled": Text("取消", "cancelled"),
}
OTHER_SERVICE = Text("此预约是“{name}”业务的", "This booking is for {name}")

# ---------------------------------------------------------------- booking: slots, book, cancel (appointments)
NOT_BOOKABLE = Text("“{name}”不接受网上预约", "{name} takes no bookings")
BAD_SLOT = Text(
    "slot 应为时段的开始时间（ISO 8601，如 2026-12-01T09:00:00+08:00）",
    "slot must be a slot's start time (ISO 8601, e.g. 2026-12-01T09:00:00+08:00)",
)
NO_SUCH_SLOT = Text(
    "没有这个可预约时段，请从可预约的时段中选择",
    "That is not a slot you can book; choose one of the slots offered",
)
SLOT_FULL = Text("该时段已约满，请选择其他时段", "That slot is fully booked; please choose another")
BOOKED_ALREADY = Text(
    "您已预约 {day} {time} 的“{name}”，同一业务每天只能预约一次",
    "You already have a booking for {name} on {day} at {time}: one booking per service a day",
)
SUSPENDED = Text(
    "您近 {days} 天内有 {count} 次预约未按时签到，{until} 前暂停网上预约；仍可到大厅现场取号办理",
    "You missed {count} bookings in the last {days} days, so booking is suspended until {until};"
    " you may still take a ticket in the hall",
)
TOO_LATE_TO_CANCEL = Text(
    "预约时段开始前 {minutes} 分钟内不能取消（取消截止 {until}）",
    "A booking can be cancelled until {minutes} minutes before its slot (until {until})",
)
BOOKINGS_TOO_FAST = Text(
    "预约操作过于频繁，请 {seconds} 秒后再试", "Too many booking attempts: please try again in {seconds} s"
)
CODE_GUESSES = Text(
    "预约码错误次数过多，请 {seconds} 秒后再试",
    "Too many wrong booking codes: please try again in {seconds} s",
)
DAY_OUT_OF_RANGE = Text(
    "day 超出范围：最多为今天前后 {days} 天", "day is out of range: at most {days} days from today"
)
