"""tests/rollups: the tests share rollup_support."""


