-- Time to first review: how long pull requests merged in the window waited for a reviewer.
-- First review by someone other than the author; pull requests merged without one are listed
-- with an empty wait. Needs the pull_requests table.
-- @param repo text = % -- LIKE pattern of the repositories to show
SELECT
    repo,
    number,
    title,
    author,
    created_at,
    first_review_at,
    ROUND((EXTRACT(EPOCH FROM first_review_at) - EXTRACT(EPOCH FROM created_at)) / 3600.0, 2) AS wait_hours
FROM pull_requests
WHERE merged_at >= $since AND merged_at < $until AND repo LIKE $repo
ORDER BY wait_hours DESC NULLS LAST, repo, number
