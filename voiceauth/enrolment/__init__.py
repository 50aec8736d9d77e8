"""Enrolment: active (dedicated recordings) and passive (a consented call), behind gates.

`Enroller` runs the consent gate first, then the pure gates of `gates` with the thresholds of
`EnrolmentPolicy`, the optional countermeasure, and stores the voiceprint; `refine_vector` is
the bounded update a later verified call may make.
"""

from voiceauth.enrolment.countermeasure import Countermeasure, SpoofVerdict
from voiceauth.enrolment.enroller import Enroller
from voiceauth.enrolment.outcome import EnrolmentOutcome, EnrolmentResult, Rejection
from voiceauth.enrolment.policy import EnrolmentPolicy
from voiceauth.enrolment.refine import refine_vector

__all__ = [
    "Countermeasure",
    "Enroller",
    "EnrolmentOutcome",
    "EnrolmentPolicy",
    "EnrolmentResult",
    "Rejection",
    "SpoofVerdict",
    "refine_vector",
]
