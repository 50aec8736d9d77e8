"""Knowledge factors (PIN, date of birth, security answers) and one-time codes.

`knowledge` keeps argon2id hashes (`hashing`) of normalised values (`normalise`) and checks
them within attempt limits per call, customer and ANI (`limits`); `otp` issues and checks
one-time codes delivered by a `notifier` (`smtp`, `sms`); `routes` is the IVR's REST side;
`results` holds each call's factor results for the fusion. `service.Factors` and
`routes.factors_router` (FastAPI, settings) are imported from their modules, so that the
package itself stays light for its sub-packages (`eid`).
"""

from voiceauth.factors.hashing import SecretHasher
from voiceauth.factors.knowledge import KnowledgeCheck, KnowledgeFactors, KnowledgeKind, Outcome
from voiceauth.factors.limits import AttemptLimits, Scope
from voiceauth.factors.notifier import Message, Notifier, NotifierError
from voiceauth.factors.otp import OneTimeCodes, OtpOutcome, OtpSettings, SendOutcome
from voiceauth.factors.results import CallFactors, FactorResult
from voiceauth.factors.sms import HttpSmsNotifier
from voiceauth.factors.smtp import SmtpNotifier

__all__ = [
    "AttemptLimits",
    "CallFactors",
    "FactorResult",
    "HttpSmsNotifier",
    "KnowledgeCheck",
    "KnowledgeFactors",
    "KnowledgeKind",
    "Message",
    "Notifier",
    "NotifierError",
    "OneTimeCodes",
    "OtpOutcome",
    "OtpSettings",
    "Outcome",
    "Scope",
    "SecretHasher",
    "SendOutcome",
    "SmtpNotifier",
]
