{% test unique_combination_of_columns(model, combination_of_columns) %}
-- Rows whose combination of the given columns occurs more than once.
SELECT {{ combination_of_columns | join(', ') }}, count(*) AS occurrences
FROM {{ model }}
GROUP BY {{ combination_of_columns | join(', ') }}
HAVING count(*) > 1
{% endtest %}
