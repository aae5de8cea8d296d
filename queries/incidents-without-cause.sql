-- Incidents that no production deployment could be blamed for, and why.
-- They count in time to restore but in no deployment's failure. An incident names its cause
-- with deployment_id; without one it goes to the repository's latest production deployment.
SELECT
    created_at,
    repo,
    id,
    named_deployment_id,
    CASE
        WHEN named_deployment_id IS NOT NULL THEN 'names a deployment that is not a production one'
        ELSE 'no production deployment of the repository before it'
    END AS reason,
    ROUND(restore_hours, 2) AS restore_hours,
    open
FROM incident_attribution
WHERE deployment_id IS NULL
ORDER BY created_at, id
