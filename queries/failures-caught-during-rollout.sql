-- Failures caught during rollout: the window's failed production deployments, those aborted before they reached everyone first, with how far they got.
-- @param repo text = % -- LIKE pattern of the repositories to show
SELECT
    id,
    repo,
    caught,
    exposure,
    started_at,
    deployed_at,
    ROUND(recovery_hours, 2) AS recovery_hours,
    failure_reason,
    url
FROM rollouts
WHERE failed AND repo LIKE $repo
ORDER BY caught DESC, deployed_at, id
