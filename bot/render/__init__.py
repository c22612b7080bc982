"""Renderers: each turns a :class:`~bot.model.report.Report` into one output format; none computes."""
