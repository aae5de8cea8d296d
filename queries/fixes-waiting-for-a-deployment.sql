-- Issues whose fix is committed but not in production yet: how long each has waited since its last linked commit.
-- @param repo text = % -- LIKE pattern of the repositories to show
SELECT
    ROUND((EXTRACT(EPOCH FROM $until) - EXTRACT(EPOCH FROM MAX(c.committed_at))) / 3600.0, 2) AS waiting_hours,
    i.id,
    i.repo,
    i.kind,
    i.title,
    COUNT(*) AS linked_commits,
    MAX(c.committed_at) AS last_commit_at,
    i.url
FROM issues i
JOIN issue_commits l ON l.issue_id = i.id
JOIN commits c ON c.repo = i.repo AND c.sha = l.sha
WHERE i.repo LIKE $repo
    AND c.committed_at < $until
    AND i.id NOT IN (SELECT id FROM issue_deliveries)
    AND i.id IN (SELECT id FROM open_issues)
GROUP BY i.id, i.repo, i.kind, i.title, i.url
ORDER BY waiting_hours DESC, i.id
