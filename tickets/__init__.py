"""The 12345 ticket lifecycle (seed 004, "六单"): 制单 → 派单 → 接单 → 做单 → 评单
→ 考单, with working-day deadlines, escalation, resident evaluation and assessment.

Rules in one place each:
- stages, actions and allowed transitions: ``tickets.choices`` (TRANSITIONS);
- who may do what: ``tickets.permissions``;
- deadlines: ``tickets.workcalendar.add_working_days`` — the end (17:30) of the
  N-th Chinese working day after the day of the start, over the WorkCalendarDay
  table; provisional over a year staff have not confirmed;
- writes: ``tickets.services`` (intake, lifecycle, evaluation, escalation,
  calendar); reads: ``tickets.selectors``; periodic jobs: ``tickets.tasks`` with
  their schedules in ``tickets.schedules``.
"""
