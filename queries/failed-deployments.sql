-- Failed production deployments of the window: why each failed and how long recovery took.
-- @param repo text = % -- LIKE pattern of the repositories to show
SELECT
    deployed_at,
    repo,
    id,
    failure_reason,
    incident_ids,
    recovered_at,
    ROUND(recovery_hours, 2) AS recovery_hours,
    recovery_open AS still_failing
FROM production_deployments
WHERE failed AND repo LIKE $repo
ORDER BY deployed_at DESC, id
