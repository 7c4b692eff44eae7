"""The integrity signals' sentences, in Chinese and in English: why each signal was raised.

A part of the one catalogue (`messages`), kept beside the signals because
every rule has its own sentence and they grow together. Each says what was
measured, the hall file's line it crossed, and the comparison that puts it in
context; never an ID number or phone number (an applicant is its `ref`).
"""

from __future__ import annotations

from clearhall.server.domain.text import Text

# ---------------------------------------------------------------- 黄牛
ID_PER_DAY = Text(
    "同一身份证号（{ref}）{day} 取号 {count} 个；提示线为每日 {limit} 个。",
    "One ID number ({ref}) took {count} tickets on {day}; the line is {limit} a day.",
)
PHONE_PER_DAY = Text(
    "同一手机号（{ref}）{day} 取号 {count} 个；提示线为每日 {limit} 个。",
    "One phone number ({ref}) was given for {count} tickets on {day}; the line is {limit} a day.",
)
ABOVE_PERCENTILE = Text(
    "本厅近 {days} 天（{sample} 个样本）每个号码每日取号数的第 {pct} 百分位为 {value}，此数高于它。",
    " It is above {value}, the {pct}th percentile of tickets per number per day in this hall over the"
    " last {days} days ({sample} such days).",
)
ID_MANY_DAYS = Text(
    "同一身份证号（{ref}）在 {first} 至 {last} 期间有 {count} 天取号；提示线为 {days} 天内 {limit} 天。",
    "One ID number ({ref}) took tickets on {count} different days from {first} to {last}; the line is"
    " {limit} days within {days}.",
)
PHONE_MANY_IDS = Text(
    "同一手机号（{ref}）在 {first} 至 {last} 期间与 {count} 个不同身份证号一起取号；"
    "提示线为 {days} 天内 {limit} 个。",
    "One phone number ({ref}) was given with {count} different ID numbers from {first} to {last}; the"
    " line is {limit} within {days} days.",
)
KIOSK_BURST = Text(
    "自助机 {device} 在 {start} 至 {end} 的 {seconds} 秒内出号 {count} 个；"
    "提示线为 {seconds} 秒内 {limit} 个，快于群众逐一取号。",
    "Kiosk {device} issued {count} tickets within {seconds} s, from {start} to {end}; the line is {limit},"
    " faster than people take tickets one after another.",
)

# ---------------------------------------------------------------- 中介
SAME_STAFF = Text(
    "同一办事人（身份证号 {ref}）在 {first} 至 {last} 期间由 {staff} 办结 {count} 次；"
    "提示线为 {days} 天内 {limit} 次。同期办结这些业务的工作人员共 {servers} 人。",
    "One applicant (ID number {ref}) was served by {staff} {count} times from {first} to {last}; the line"
    " is {limit} within {days} days. {servers} staff members finished these services in that time.",
)
REGISTERED_PROXY = Text("此人是登记的帮代办人员。", " This person is a registered proxy.")

# ---------------------------------------------------------------- 好差评
TOP_FAST = Text(
    "{window} 号窗口 {staff} 的 {count} 条评价中，{top_fast} 条（{share}）为“非常满意”"
    "且在办结后 {seconds} 秒内给出；提示线为至少 {least} 条、占比 {line}。全厅同期为 {hall_share}。",
    "Of {count} ratings of {staff} at window {window}, {top_fast} ({share}) were 5 and given within"
    " {seconds} s of the finish; the line is {line} of at least {least}. The hall's share is {hall_share}.",
)
PAD_LATE = Text(
    "{window} 号窗口的评价器 {day} 有 {count} 条评价不是紧随所评之号的办结：在办结 {gap} 秒以后，"
    "或该窗口此后已有其他号办结；提示线为每天 {limit} 条。",
    "The rating pad of window {window} gave {count} ratings on {day} that did not follow their visit's"
    " finish: more than {gap} s after it, or after another visit had ended there; the line is {limit} a day.",
)

# ---------------------------------------------------------------- far above peers
SUSPENSIONS = Text(
    "{staff} {day} 挂起 {count} 次；同日其他 {peers} 位工作人员的中位数为 {median}。"
    "提示线为至少 {least} 次且超过中位数的 {factor} 倍。",
    "{staff} suspended {count} tickets on {day}; the median of the {peers} others who worked that day is"
    " {median}. The line is at least {least} and over {factor} times that median.",
)
OUT_OF_ORDER = Text(
    "{staff} {day} 指呼（不按规则顺序叫号）{count} 次；同日其他 {peers} 位工作人员的中位数为 {median}。"
    "提示线为至少 {least} 次且超过中位数的 {factor} 倍。",
    "{staff} called {count} tickets out of order on {day}; the median of the {peers} others who worked"
    " that day is {median}. The line is at least {least} and over {factor} times that median.",
)
