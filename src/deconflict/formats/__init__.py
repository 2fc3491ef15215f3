"""Readers and writers of the formats parties bring: ACO, NOTAM, OpenAir, GIS."""
