"""叫号提醒 by SMS or WeChat 订阅消息: a citizen who left a phone number is told
when their turn is near and when they are called.

- The database fills the outbox (`notify_outbox`, schema.sql): the trigger
  `notify_after_call` runs in the transaction of every call, so a message
  exists exactly when its call was committed, whichever code path called.
  The phone number is kept (`notify_contacts`) only by a process that has a
  notifier, from the ticket's own transaction (`worker.keep_contact`).
- `outbox`: the rows and their SQL (claim with SKIP LOCKED and a lease, finish
  as sent or due again with backoff, give up, sweep).
- `notifiers`: the `Notifier` interface (one async `send(message)`), the
  `LoggingNotifier` of the demo, and the names the hall file's
  `[notify] notifier` may give.
- `worker`: the per-process sender under the app key `NOTIFYING`, started in
  `notify_worker` beside the print worker.
"""
