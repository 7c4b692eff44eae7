"""Every sentence the API says to a person, in Chinese and English: one catalogue.

The catalogue is three modules: this one; `booking_texts` (appointments, hours,
proxies) and `signal_texts` (why each integrity signal was raised), each kept
beside the rules it words. No other module writes a sentence
(tests/system/test_layers.py checks). Grouped by where they come from.
Placeholders are `{name}`; fill them by calling the text:
`messages.NO_WINDOW(number=3)`; a placeholder given a `Text` (a word of this
catalogue) takes it in each language's own words.
"""

from __future__ import annotations

from clearhall.server.domain.text import Text

# ---------------------------------------------------------------- requests and bodies
NOT_JSON = Text("请求内容不是有效的 JSON", "The body is not valid JSON")
NOT_OBJECT = Text("请求内容应为 JSON 对象", "The body must be a JSON object")
UNKNOWN_FIELD = Text("未知字段 {field}", "Unknown field '{field}'")
MISSING_FIELD = Text("缺少字段 {field}", "Field '{field}' is required")
NULL_FIELD = Text("字段 {field} 不能为 null", "Field '{field}' must not be null")
NOT_STRING = Text("字段 {field} 应为字符串", "Field '{field}' must be a string")
NOT_INTEGER = Text("字段 {field} 应为整数", "Field '{field}' must be an integer")
NOT_BOOLEAN = Text("字段 {field} 应为 true 或 false", "Field '{field}' must be true or false")
NOT_OBJECT_FIELD = Text("字段 {field} 应为对象", "Field '{field}' must be an object")
NOT_STRING_LIST = Text(
    "字段 {field} 应为不超过 {most} 项的字符串列表",
    "Field '{field}' must be a list of at most {most} strings",
)
CONTROL_CHARACTERS = Text("字段 {field} 含有控制字符", "Field '{field}' holds control characters")
TOO_LONG = Text("字段 {field} 过长，最多 {most} 字", "Field '{field}' is longer than {most}")
EMPTY_FIELD = Text("字段 {field} 不能为空", "Field '{field}' must not be empty")
NOT_A_CHOICE = Text("字段 {field} 的值无效，可选: {choices}", "Field '{field}' must be one of {choices}")
WRONG_FORMAT = Text("字段 {field} 格式不正确", "Field '{field}' has the wrong format")
OUT_OF_RANGE = Text("字段 {field} 应在 {low} 到 {high} 之间", "Field '{field}' must be {low}–{high}")
QUERY_NOT_INTEGER = Text("参数 {name} 应为 {low}–{high} 的整数", "{name} must be an integer {low}–{high}")
QUERY_WRONG_FORMAT = Text("参数 {name} 格式不正确", "{name} has the wrong format")
QUERY_NOT_DATE = Text("参数 {name} 应为 YYYY-MM-DD", "{name} must be a date, YYYY-MM-DD")
NOT_A_DATE = Text("{field} 不是有效日期", "{field} is not a date")
ENDS_BEFORE_STARTS = Text("结束日期早于开始日期", "ends_on is before starts_on")
BAD_IDEMPOTENCY_KEY = Text(
    "Idempotency-Key 应为 1–{most} 个字符", "Idempotency-Key must be 1–{most} characters"
)
BODY_TOO_SLOW = Text("请求内容未在规定时间内发完", "The request body did not arrive in time")
BODY_TOO_LARGE = Text("请求内容过大（最多 64 KiB）", "The request body is over 64 KiB")
UNSTORABLE_VALUE = Text("请求中有无法保存的字符或数值", "The request holds a value that cannot be stored")
BAD_REQUEST = Text("请求格式不正确", "The request is malformed")
NO_SUCH_ADDRESS = Text("没有这个地址", "There is nothing at this address")
METHOD_NOT_ALLOWED = Text("此地址不支持该请求方法", "This method is not allowed here")
DATABASE_DOWN = Text("数据库暂时无法连接，请稍后再试", "The database is unavailable; try again")
INTERNAL = Text("服务器内部错误", "Internal error")

# ---------------------------------------------------------------- who is asking
NEED_CREDENTIAL = Text("需要登录或有效的设备令牌", "A valid credential is required")
TOKEN_UNKNOWN = Text("登录已失效或令牌无效", "The token is unknown or has expired")
WRONG_PASSWORD = Text("用户名或密码不正确", "Wrong username or password")
STAFF_ONLY = Text("此操作需要工作人员登录", "This needs a staff log-in, not a device")
SUPERVISOR_ONLY = Text("此操作需要监督员登录", "This needs a supervisor's log-in")
DEVICE_MAY_NOT = Text("此设备不能执行此操作", "This credential may not do this")
BAD_ORIGIN = Text("不允许的来源", "This Origin may not connect")
NEED_TICKET_KEY = Text("需要号票凭证", "The ticket's key is required")
WRONG_TICKET_KEY = Text("凭证不正确", "The ticket key is wrong")
METRICS_FROM_THIS_MACHINE = Text(
    "监控指标只能在本机读取，或使用指标令牌",
    "Metrics may be read on this machine only, or with the metrics token",
)

# ---------------------------------------------------------------- tickets
NO_TICKET = Text("没有这个号", "There is no such ticket")
NO_TICKET_TODAY = Text("今天没有 {number} 号", "There is no ticket {number} today")
UNKNOWN_SERVICE = Text("未知业务 {service}", "Unknown service '{service}'")
NEEDS_REAL_NAME = Text("{service}需要实名取号，请提供身份证号", "{service} needs an ID number")
OPEN_TICKET_FOR_ID = Text(
    "此身份证号在该业务已有未办结的号", "This ID number already holds an unfinished ticket for this service"
)
DAILY_LIMIT_FOR_ID = Text(
    "此身份证号今日已取 {taken} 个号，达到每日 {limit} 个的上限",
    "This ID number has taken {taken} tickets today, the daily limit of {limit}",
)
ID_FORMAT = Text("身份证号应为18位", "An ID number has 17 digits and a digit or X")
ID_BIRTH_DATE = Text("身份证号中的出生日期无效", "The birth date in the ID number is not a date")
ID_CHECK_DIGIT = Text("身份证号校验位不正确", "The ID number's check digit is wrong")
PHONE_FORMAT = Text("手机号应为11位数字", "A phone number has 11 digits starting with 1")

# ---------------------------------------------------------------- windows
NO_WINDOW = Text("没有 {number} 号窗口", "There is no window {number}")
STAFF_ACT_ON_WINDOWS = Text("只有工作人员可以操作窗口", "Only staff act on windows")
NOT_SIGNED_IN_HERE = Text("你没有在 {number} 号窗口签到", "You are not signed in at window {number}")
MAY_NOT_SIGN_IN_HERE = Text("你不能在 {number} 号窗口签到", "You may not sign in at window {number}")
WINDOW_STAFFED = Text("{number} 号窗口已有 {name} 签到", "Window {number} is staffed by {name}")
WINDOW_CLOSED = Text("{number} 号窗口无人签到", "Window {number} is closed")
WINDOW_PAUSED = Text("{number} 号窗口已暂停服务", "Window {number} is paused")
WINDOW_BUSY = Text("{number} 号窗口还有未办结的号", "Window {number} still has a current ticket")
WINDOW_IDLE = Text("{number} 号窗口当前没有号", "Window {number} has no current ticket")
FINISH_FIRST = Text("请先办结或转移 {number} 号窗口的当前号", "Finish or transfer the current ticket first")
CANNOT_NOW = Text("当前的号不能执行此操作（{action}）", "The current ticket cannot be given '{action}' now")
NOT_THIS_WINDOWS_SERVICE = Text("{number} 不属于本窗口的业务", "{number} is not a service of this window")
NOT_WAITING = Text("{number} 不在等候中", "Ticket {number} is not waiting")
NOT_SUSPENDED_HERE = Text(
    "{number} 不是今天在 {window} 号窗口的业务中挂起的号",
    "There is no suspended ticket {number} of window {window}'s services today",
)
OPEN_TICKET_IN_TARGET = Text(
    "此身份证号在 {service} 业务已有未办结的号，不能转入",
    "This ID number already holds an unfinished ticket for {service}; it cannot be transferred there",
)

# ---------------------------------------------------------------- ratings and notices
STAFF_CANNOT_RATE = Text(
    "只有群众或窗口评价器可以评价", "Only the citizen or the window's rating pad may rate"
)
RATE_AT_THE_PAD = Text(
    "工作人员代取的号只能在窗口评价器上评价",
    "A ticket its own staff member issued at the counter is rated only at the pad",
)
NOT_FINISHED_HERE = Text("这个号不是在本窗口办结的", "This ticket was not finished at this window")
ONLY_DONE_RATED = Text("只有已办结的号可以评价", "Only a finished ticket can be rated")
ALREADY_RATED = Text("这个号已经评价过了", "This ticket has already been rated")
NO_NOTICE = Text("没有这条公告", "There is no such notice")

# ---------------------------------------------------------------- 好差评: the loop (issue 10)
BAD_RATING_NEEDS_REASON = Text(
    "差评请至少选择一项原因或填写意见", "A rating of 1 or 2 needs at least one reason or a comment"
)
UNKNOWN_REASON = Text("“{reason}”不是本厅的差评原因", "'{reason}' is not one of this hall's reasons")
REASONS_ONLY_FOR_BAD = Text("只有差评（1–2 分）选择原因", "Reasons go with a rating of 1 or 2 only")
CONTACT_FORMAT = Text("联系电话应为 7–15 位数字", "A contact number has 7–15 digits")
RATING_PERIOD_OVER = Text(
    "办结已超过 {days} 天，评价期已过",
    "A ticket can be rated within {days} days of its finish; this one is past",
)
CASE_NUMBER_FORMAT = Text(
    "办件编号只能包含字母、数字和 . _ / -，最多 64 位",
    "A case number is letters, digits and . _ / -, at most 64 characters",
)
CASE_NUMBER_NOT_YOURS = Text(
    "只有办结此号的工作人员或监督员可以登记办件编号",
    "Only the staff member who finished this ticket, or a supervisor, may give its case number",
)
CASE_NUMBER_NOT_DONE = Text("号办结后才能登记办件编号", "A case number is given once the ticket is finished")
NO_FOLLOW_UP = Text("没有这个整改案件", "There is no such follow-up case")
FOLLOW_UP_CLOSED = Text("此案件已办结，不能再添加步骤", "This case is closed; no more steps can be added")
CLOSE_NEEDS_STEPS = Text(
    "须先回访，并整改或说明，才能办结", "A case closes only after a call-back and a fix or an explanation"
)
CLOSE_APPEAL_PENDING = Text(
    "申诉尚未复核，不能办结", "The appeal has not been decided; decide it before closing"
)
STEP_NEEDS_TEXT = Text("请填写此步骤的内容（{kind}）", "Say what was done in this step ({kind})")
UPHELD_ONLY_WITH_DECISION = Text(
    "upheld 只用于申诉复核结论（appeal_decision）", "upheld goes with an appeal_decision only"
)
DECISION_NEEDS_UPHELD = Text(
    "申诉复核须给出结论 upheld（true 或 false）", "An appeal_decision needs upheld: true or false"
)
APPEAL_ONLY_RATINGS = Text("只有差评可以申诉", "Only a bad rating can be appealed")
APPEALED_ALREADY = Text("此案件已申诉过", "This case has been appealed already")
NO_APPEAL_PENDING = Text("此案件没有待复核的申诉", "This case has no appeal waiting for a decision")
DECIDE_OWN_APPEAL = Text(
    "申诉须由另一位监督员复核", "An appeal is decided by a supervisor other than the one who filed it"
)
HANDLING_RATED = Text("已评价过处理结果", "The handling of this case has been rated already")
HANDLING_NOT_YET = Text(
    "整改或说明之后才能评价处理结果", "The handling can be rated once the hall has fixed or explained"
)
HANDLING_BY_CITIZEN = Text(
    "处理结果只能由群众凭号票凭证评价", "Only the citizen, with the ticket's key, rates the handling"
)
WRONG_CASE_KEY = Text("凭证不正确", "The key does not belong to this case")
COMPLAINT_NEEDS_KEY = Text("投诉涉及的号须附带其凭证", "A complaint about a ticket needs the ticket's key")
KEY_WITHOUT_TICKET = Text("凭证须与号一起提供", "key goes with ticket")
COMPLAINTS_TOO_FAST = Text(
    "投诉提交过于频繁，请 {seconds} 秒后再试", "Too many complaints from here; try again in {seconds} seconds"
)
QUERY_NOT_A_CHOICE = Text("参数 {name} 可选: {choices}", "{name} must be one of {choices}")
TO_BEFORE_FROM = Text("结束日期 to 早于开始日期 from", "to is before from")
RANGE_TOO_LONG = Text("统计区间最多 {days} 天", "A range is at most {days} days")
QUERY_NOT_MONTH = Text("参数 {name} 应为 YYYY-MM", "{name} must be a month, YYYY-MM")
REPORT_OUT_OF_RANGE = Text(
    "报表的日期应在 {first} 至 {last} 之间", "A report's dates must be from {first} to {last}"
)
NOT_BOOLEAN = Text("字段 {field} 应为 true 或 false", "Field '{field}' must be true or false")

# ---------------------------------------------------------------- printing
NO_PRINTER = Text("没有打印机 {name}", "There is no printer '{name}'")
NO_PRINT_JOB = Text("没有 {job_id} 号打印任务", "There is no print job {job_id}")
JOB_NOT_CANCELLABLE = Text(
    "打印任务已{stage}，不能取消", "Print job {job_id} is {status} and can no longer be cancelled"
)
NOT_A_JOB_STATUS = Text("status 可选: {choices}", "status must be one of {choices}")
REPRINT_NOT_YOURS = Text("只有取号的自助机或工作人员可以补打", "Only the issuing kiosk or staff may reprint")
NOTHING_TO_REPRINT = Text(
    "这个号没有可补打的小票：不是在带打印机的自助机上取的，或已超过一天",
    "This ticket was not issued at a kiosk with a printer, or is more than a day old",
)
NO_AGENT_PRINTER = Text("此设备没有 agent:// 打印机", "This device has no agent:// printer in the hall file")
WEBSOCKET_ONLY = Text("此地址只接受 WebSocket 连接", "This address speaks WebSocket only")

# ---------------------------------------------------------------- rate limits and sessions (issue 8)
TOO_MANY_LOG_INS = Text(
    "登录失败次数过多，请 {seconds} 秒后再试", "Too many failed log-ins; try again in {seconds} seconds"
)
KIOSK_TOO_FAST = Text(
    "本机取号过于频繁，请 {seconds} 秒后再试",
    "This kiosk is issuing tickets too fast; try again in {seconds} seconds",
)

# ---------------------------------------------------------------- a day at the counter (issue 9)
UNSTAFFED_SERVICE = Text("当前无窗口办理此业务", "No window handles this service right now")
NO_SHOW_TOO_SOON = Text(
    "叫号 {after} 秒后才能标记过号，还需 {seconds} 秒；可先重呼",
    "A ticket can be marked missed {after} s after its call, in {seconds} s; a recall may bring the citizen",
)
NOTHING_TO_UNDO = Text(
    "{number} 号窗口没有可撤销的办结或过号", "Window {number} has no finish or no-show to undo"
)
UNDO_TOO_LATE = Text(
    "办结或过号 {seconds} 秒后不能撤销", "A finish or no-show can be undone within {seconds} seconds only"
)
UNDO_CALLED_SINCE = Text(
    "本窗口此后已叫其他号，不能撤销", "This window has called another ticket since; nothing was undone"
)
UNDO_RATED = Text("{number} 已评价，不能撤销办结", "{number} has been rated; its finish cannot be undone")
UNDO_CHANGED = Text("{number} 此后已有变动，不能撤销", "{number} has changed since; nothing was undone")
FINISH_ONLY_WHEN_PAUSED = Text(
    "{number} 号窗口已暂停服务：只能办结，不能叫下一位",
    "Window {number} is paused: finish the ticket without calling the next",
)
NO_COMEBACK = Text(
    "本厅过号不顺延，{number} 请重新取号",
    "A missed ticket does not come back in this hall: {number} needs a new one",
)
COMEBACK_USED = Text(
    "{number} 已过号顺延过一次，请重新取号",
    "{number} has already come back once after a no-show; it needs a new one",
)

# ---------------------------------------------------------------- the kiosk: 回队, 补打 by ID, 导办 (issue 9)
KIOSK_ONLY = Text("此操作只能在自助取号机上进行", "Only a kiosk may do this")
TICKET_NUMBER_FORMAT = Text(
    "号码应为字母加数字，如 A012", "A ticket number is a letter and digits, like A012"
)
REJOIN_PROOF = Text(
    "请扫描小票二维码，或输入号码和取号时登记的身份证号或手机号",
    "Scan the receipt's QR code, or give the number with the ID or phone number it was taken with",
)
REJOIN_NO_MATCH = Text(
    "没有找到与此号码和证件相符的号，请核对后再试",
    "No ticket of today matches this number and proof; please check and try again",
)
REJOIN_WAITING = Text("{number} 正在排队等候，无需回队", "{number} is waiting in line already")
REJOIN_CALLED = Text("{number} 已叫号，请直接到窗口办理", "{number} has been called: please go to the window")
REJOIN_DONE = Text(
    "{number} 已办结，如需再次办理请重新取号", "{number} is finished; take a new number to come again"
)
REJOIN_TOO_MANY = Text(
    "核对失败次数过多，请 {seconds} 秒后再试，或请工作人员协助",
    "Too many failed tries; try again in {seconds} seconds, or ask a member of staff",
)
NO_HELD_TICKET = Text(
    "此身份证号在该业务没有未办结的号", "This ID number holds no unfinished ticket for this service"
)
REPRINT_ELSEWHERE = Text(
    "这个号不是在本机取的，请到原取号机补打，或请导办人员协助",
    "This ticket was taken at another kiosk: reprint it there, or ask a guide",
)
REPRINT_TOO_MANY = Text(
    "补打过于频繁，请 {seconds} 秒后再试", "Too many reprints; try again in {seconds} seconds"
)
GUIDE_TOO_OFTEN = Text(
    "已呼叫导办人员，请在此稍候（{seconds} 秒后可再次呼叫）",
    "A guide has been called; please wait here (you may call again in {seconds} seconds)",
)
NO_GUIDE_CALL = Text("没有这条导办呼叫", "There is no such guide call")

# ---------------------------------------------------------------- 叫号提醒 by SMS / WeChat (server/notify)
NOTIFY_NEAR = Text(
    "【{hall}】您的号 {number} 前面还有 {ahead} 人，请回到等候区留意叫号。",
    "{hall}: {ahead} ahead of ticket {number}. Please come back to the waiting area.",
)
NOTIFY_NEXT = Text(
    "【{hall}】下一位就是您（{number}），请到等候区留意叫号。",
    "{hall}: ticket {number} is next. Please wait near the windows.",
)
NOTIFY_CALLED = Text(
    "【{hall}】轮到您了！请 {number} 到 {window} 号窗口办理。",
    "{hall}: it is your turn. Ticket {number}, please go to window {window}.",
)

# ---------------------------------------------------------------- 红黄牌: why each card (domain/cards.py)
NO_CARD = Text("没有这张红黄牌", "There is no such card")
CARD_TIME_LIMIT = Text(
    "{ticket}（{service}）{since} 在 {window} 号窗口叫号后，办理超过限时 {minutes} 分钟未办结",
    "{ticket} ({service}) was at window {window} from its call at {since} past its {minutes}-minute"
    " time limit",
)
CARD_LONG_WAIT = Text(
    "{ticket}（{service}）自 {since} 起等候 {minutes} 分钟仍未被叫号",
    "{ticket} ({service}) waited {minutes} minutes from {since} without being called",
)
CARD_IDLE_WINDOW = Text(
    "{window} 号窗口在岗未暂停，自 {since} 起 {minutes} 分钟未叫号，而本窗口业务有号等候（最早 {ticket}）",
    "Window {window} was open and called nobody for {minutes} minutes from {since} while its services'"
    " tickets waited (the first {ticket})",
)
CARD_ABSENT = Text(
    "{window} 号窗口 {name} {since} 签退后，营业时间内 {minutes} 分钟无人签到（空岗）",
    "Window {window} was left empty in opening hours for {minutes} minutes after {name} signed out at"
    " {since}",
)
CARD_OUT_OF_ORDER = Text(
    "{window} 号窗口 {since} 指呼 {ticket}，按叫号规则应叫 {rule_ticket}；理由：{reason}",
    "Window {window} called {ticket} out of order at {since}; the rule would have called {rule_ticket}."
    " Reason: {reason}",
)
CARD_SUSPENDED_TWICE = Text(
    "{ticket} 在 {window} 号窗口第 {times} 次挂起（所缺：{missing}），一次性告知未落实",
    "{ticket} was suspended again at window {window} (suspension {times}; missing: {missing}): the"
    " documents were not all named at once",
)
CARD_NOTHING_NAMED = Text("未列明", "nothing named")
CARD_BAD_RATING = Text(
    "{ticket} 的差评（{score} 分）于 {since} 整改结案，{appeal}，差评成立",
    "The bad rating ({score}) of {ticket} stands: its case closed at {since} {appeal}",
)
CARD_NOT_APPEALED = Text("未申诉", "without an appeal")
CARD_APPEAL_REJECTED = Text("申诉未获支持", "after its appeal was rejected")
CARD_RED = Text(
    "{name} 在 {days} 天内累计 {count} 张黄牌（{rules}）",
    "{name} received {count} yellow cards within {days} days ({rules})",
)
# Each rule in a word, for CARD_RED's {rules} (card_rules.RULE_WORDS).
RULE_TIME_LIMIT = Text("限时办结超时", "time limit")
RULE_LONG_WAIT = Text("等候超时", "long wait")
RULE_IDLE_WINDOW = Text("窗口闲置", "idle window")
RULE_ABSENT = Text("空岗", "empty post")
RULE_OUT_OF_ORDER = Text("指呼", "out-of-order call")
RULE_SUSPENDED_TWICE = Text("一次性告知未落实", "tell-once broken")
RULE_BAD_RATING = Text("差评成立", "bad rating")
