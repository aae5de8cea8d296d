-- Commits of the window that no production deployment has shipped yet: work waiting to go out.
-- Needs deployment_commits (without them every commit counts as shipped by the next deployment).
SELECT
    c.repo,
    c.sha,
    c.committed_at,
    ROUND((EXTRACT(EPOCH FROM $until) - EXTRACT(EPOCH FROM c.committed_at)) / 86400.0, 1) AS waiting_days,
    c.author,
    c.message
FROM commits c
LEFT JOIN (SELECT DISTINCT repo, sha FROM changes) shipped ON shipped.repo = c.repo AND shipped.sha = c.sha
LEFT JOIN (
    SELECT DISTINCT d.repo, dc.sha
    FROM deployment_commits dc
    JOIN production_deployments d ON d.id = dc.deployment_id
) earlier ON earlier.repo = c.repo AND earlier.sha = c.sha
WHERE c.committed_at >= $since AND c.committed_at < $until
    AND shipped.sha IS NULL AND earlier.sha IS NULL
ORDER BY c.committed_at, c.repo, c.sha
