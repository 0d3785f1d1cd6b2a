"""Schedules (issue 17): which unit of work runs next. Pure: no store, no sandbox, no model.

A unit is "expand node Y into a child" or "evaluate one more task of node X". `Tree` is what a
scheduler knows (finished results plus the units still pending); `Dispatcher` feeds a scheduler's
decisions to any `UnitRunner` (the bench's simulated executor today).
"""
