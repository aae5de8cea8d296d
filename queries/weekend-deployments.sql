-- Production deployments on a Saturday or Sunday in --tz, and how often they failed.
SELECT
    deployed_local,
    repo,
    id,
    failed,
    failure_reason
FROM production_deployments
WHERE EXTRACT(ISODOW FROM deployed_local) >= 6
ORDER BY deployed_at, id
