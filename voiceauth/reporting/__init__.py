"""Call outcomes and the contact centre's KPI report (issue #7): rates, times, CSV and a chart.

`outcome.CallOutcome` is what the call service keeps of a finished call (no biometric data, no
customer identity), `kpi` turns a sequence of them into figures, `table` writes those as CSV
and `chart` draws them (matplotlib). Only the record is imported here: the store imports it,
and should not pull in numpy or matplotlib with it.
"""

from voiceauth.reporting.outcome import CallOutcome

__all__ = ["CallOutcome"]
