/**
 * The route template of a GitHub API request, so that metrics have one series per kind of request
 * whether Octokit gives the template or a concrete URL (pagination):
 * "/repos/octo/widgets/issues/12/labels/bug" and "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}"
 * → "/repos/{owner}/{repo}/issues/{id}/labels/{name}"; "/repos/octo/widgets/contents/.github/hls.yml" →
 * "/repos/{owner}/{repo}/contents/{path}".
 */
export function routeTemplate(url: string): string {
  const pathname = url.startsWith('/') ? url.replace(/[?#].*$/, '') : new URL(url).pathname;
  const segments = pathname.split('/').filter(Boolean);
  const route: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    const previous = segments[i - 1];
    if (previous === 'repos' && i + 1 < segments.length) {
      route.push('{owner}', '{repo}');
      i++;
    } else if (previous === 'orgs' || previous === 'users') {
      route.push(previous === 'orgs' ? '{org}' : '{username}');
    } else if (previous === 'labels') {
      route.push('{name}');
    } else if (previous === 'contents') {
      // A file's path, however many segments it has.
      route.push('{path}');
      break;
    } else if (/^(\d+|\{\w+\}|[0-9a-f]{8}-[0-9a-f-]{27})$/i.test(segments[i]!)) {
      route.push('{id}');
    } else {
      route.push(segments[i]!);
    }
  }
  return `/${route.join('/')}`;
}
