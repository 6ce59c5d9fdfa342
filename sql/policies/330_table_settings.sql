-- Why: settings hold no tenant data and ingestion, views and analysts read
-- them; only the owner changes them.
GRANT SELECT ON devdiag.settings TO devdiag_writer, devdiag_reader, devdiag_analyst;
