-- Commits of the window that no production deployment has shipped yet: work waiting to go out.
-- With deployment_commits, a commit is shipped when a production deployment lists it; without
-- them, when a production deployment of its repository came after it (docs/metrics.md).
SELECT
    c.repo,
    c.sha,
    c.committed_at,
    ROUND((EXTRACT(EPOCH FROM $until) - EXTRACT(EPOCH FROM c.committed_at)) / 86400.0, 1) AS waiting_days,
    c.author,
    c.message
FROM commits c
LEFT JOIN (SELECT DISTINCT repo, sha FROM changes) shipped ON shipped.repo = c.repo AND shipped.sha = c.sha
WHERE c.committed_at >= $since AND c.committed_at < $until AND shipped.sha IS NULL
ORDER BY c.committed_at, c.repo, c.sha
