"""The transfer bases Alliance ships with: the EU's adequacy decisions in force (GDPR
Art. 45, and decisions under Directive 95/46 kept in force by Art. 45(9)), and free movement
inside the EU and the EEA. Migration 0003 loads them; later changes (a new decision, a
renewal, a court striking one down) arrive as new data migrations, never as edits here.

Source: https://commission.europa.eu/law/law-topic/data-protection/international-dimension-data-protection/adequacy-decisions_en
The European Patent Organisation's decision is left out: it is not a jurisdiction.
"""

from __future__ import annotations

import datetime
from typing import Any, NamedTuple

EU = "EU"  # the bloc code of consortia/data/jurisdictions.json


class Adequacy(NamedTuple):
    to: str
    reference: str
    valid_from: datetime.date
    scope_notes: str


D = datetime.date

ADEQUACY_DECISIONS: tuple[Adequacy, ...] = (
    Adequacy("AD", "Commission Decision 2010/625/EU", D(2010, 10, 19), ""),
    Adequacy("AR", "Commission Decision 2003/490/EC", D(2003, 6, 30), ""),
    Adequacy(
        "CA",
        "Commission Decision 2002/2/EC",
        D(2001, 12, 20),
        "Commercial organisations subject to PIPEDA only.",
    ),
    Adequacy("FO", "Commission Decision 2010/146/EU", D(2010, 3, 5), ""),
    Adequacy("GG", "Commission Decision 2003/821/EC", D(2003, 11, 21), ""),
    Adequacy("IL", "Commission Decision 2011/61/EU", D(2011, 1, 31), ""),
    Adequacy("IM", "Commission Decision 2004/411/EC", D(2004, 4, 28), ""),
    Adequacy(
        "JP",
        "Commission Implementing Decision (EU) 2019/419",
        D(2019, 1, 23),
        "Private-sector organisations under the APPI, with the Supplementary Rules.",
    ),
    Adequacy("JE", "Commission Decision 2008/393/EC", D(2008, 5, 8), ""),
    Adequacy("NZ", "Commission Implementing Decision 2013/65/EU", D(2012, 12, 19), ""),
    Adequacy(
        "KR",
        "Commission Implementing Decision (EU) 2022/254",
        D(2021, 12, 17),
        "Organisations subject to the Personal Information Protection Act.",
    ),
    Adequacy("CH", "Commission Decision 2000/518/EC", D(2000, 7, 26), ""),
    Adequacy(
        "GB",
        "Commission Implementing Decision (EU) 2021/1772",
        D(2021, 6, 28),
        "GDPR transfers (a separate decision covers the Law Enforcement Directive). The "
        "decision carried a sunset clause and was extended and renewed by later decisions: "
        "record an end date here if a renewal lapses.",
    ),
    Adequacy(
        "US",
        "Commission Implementing Decision (EU) 2023/1795 (EU-US Data Privacy Framework)",
        D(2023, 7, 10),
        "Only organisations certified under the EU-US Data Privacy Framework.",
    ),
    Adequacy("UY", "Commission Implementing Decision 2012/484/EU", D(2012, 8, 21), ""),
)

# Personal data moves freely inside these blocs (GDPR Art. 1(3); the EEA Agreement as
# amended by EEA Joint Committee Decision 154/2018).
INTRA_BLOC: tuple[tuple[str, str, datetime.date], ...] = (
    ("EU", "Regulation (EU) 2016/679, Art. 1(3)", D(2018, 5, 25)),
    ("EEA", "EEA Joint Committee Decision No 154/2018", D(2018, 7, 20)),
)


def rows(known: set[str]) -> list[dict[str, Any]]:
    """The seed rows whose jurisdictions exist in ``known``."""
    result = [
        {
            "from_jurisdiction_id": EU,
            "to_jurisdiction_id": decision.to,
            "kind": "adequacy_decision",
            "reference": decision.reference,
            "scope_notes": decision.scope_notes,
            "valid_from": decision.valid_from,
        }
        for decision in ADEQUACY_DECISIONS
        if EU in known and decision.to in known
    ]
    result += [
        {
            "from_jurisdiction_id": bloc,
            "to_jurisdiction_id": bloc,
            "kind": "intra_bloc",
            "reference": reference,
            "scope_notes": "Free movement of personal data between the bloc's members.",
            "valid_from": valid_from,
        }
        for bloc, reference, valid_from in INTRA_BLOC
        if bloc in known
    ]
    return result
