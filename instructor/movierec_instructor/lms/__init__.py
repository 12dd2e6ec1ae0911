"""LMS round trips: one registry of presets read by collect and export.

- ``presets``: how each LMS names its download's files and which gradebook file it imports;
- ``collect``: an LMS download filed under ``submitted/``;
- ``export``: the course's grades in a preset's gradebook file.
"""
