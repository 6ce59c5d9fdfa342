"""tests/views: golden files and the reference computation share golden_support."""


