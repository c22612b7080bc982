"""Renderers: each turns a :class:`~bot.report.Report` into one output format; none computes."""
