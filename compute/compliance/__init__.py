"""The residency compliance engine: may this job run, here, now, on this data?

``facts`` gathers what is in force for a job at an instant into plain frozen dataclasses,
``decide`` weighs them without touching the database, ``reasons`` names every reason code,
``services`` proposes jobs and records decisions (append-only, audited).
"""
