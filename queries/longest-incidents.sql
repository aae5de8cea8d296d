-- The incidents of the window that took longest to restore; open ones first, with their age.
-- @param limit int = 20 -- how many incidents to list
SELECT
    id,
    repo,
    created_at,
    resolved_at,
    open,
    ROUND(
        CASE
            WHEN open THEN (EXTRACT(EPOCH FROM $until) - EXTRACT(EPOCH FROM created_at)) / 3600.0
            ELSE restore_hours
        END,
        2
    ) AS hours,
    deployment_id AS attributed_to,
    rule
FROM incident_attribution
ORDER BY open DESC, hours DESC, id
LIMIT $limit
