/** GitHub webhook event names (X-GitHub-Event), used to catch typos in the config. */
export const GITHUB_EVENTS = [
  'branch_protection_rule', 'check_run', 'check_suite', 'code_scanning_alert', 'commit_comment', 'create',
  'delete', 'dependabot_alert', 'deploy_key', 'deployment', 'deployment_status', 'discussion',
  'discussion_comment', 'fork', 'gollum', 'installation', 'installation_repositories', 'issue_comment',
  'issues', 'label', 'marketplace_purchase', 'member', 'membership', 'merge_group', 'meta', 'milestone',
  'org_block', 'organization', 'package', 'page_build', 'ping', 'project', 'project_card', 'project_column',
  'projects_v2', 'projects_v2_item', 'public', 'pull_request', 'pull_request_review',
  'pull_request_review_comment', 'pull_request_review_thread', 'push', 'registry_package', 'release',
  'repository', 'repository_dispatch', 'repository_import', 'repository_ruleset',
  'repository_vulnerability_alert', 'secret_scanning_alert', 'security_advisory', 'security_and_analysis',
  'sponsorship', 'star', 'status', 'team', 'team_add', 'watch', 'workflow_dispatch', 'workflow_job',
  'workflow_run',
] as const;
