"""The 12345 ticket lifecycle (seed 004, "六单"): 制单 → 派单 → 接单 → 做单 → 评单
→ 考单, with deadlines in the seed's units, escalation, resident evaluation and
assessment.

Rules in one place each:
- stages, actions and allowed transitions: ``tickets.choices`` (TRANSITIONS);
- who may do what: ``tickets.permissions``;
- deadlines: ``tickets.workcalendar.add_days`` — N working days (工作日: the end,
  17:30, of the N-th Chinese working day after the day of the start) or N days
  (日: the N-th calendar day, moved to the next working day when it is a day
  off), over the WorkCalendarDay table; provisional over a year staff have not
  confirmed. The 做单 limit comes from the ticket's deadline class
  (``HandlingLimit``: days and unit), ``services.common.handling_days``;
- writes: ``tickets.services`` (intake, lifecycle, evaluation, escalation,
  calendar, catalogue); reads: ``tickets.selectors``; periodic jobs: ``tickets.tasks`` with
  their schedules in ``tickets.schedules``.
"""
