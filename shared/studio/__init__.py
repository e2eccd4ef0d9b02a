"""The studio: server-rendered pages over the API's own calls (shared.api), with a small
script for what changes while one looks (live logs, metric charts, try-it). It decides
nothing: every figure it shows is what /api would answer."""
