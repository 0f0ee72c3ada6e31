import { checkAnthropic } from '../doctor/checks/anthropic.js';
import { checkConfig, databaseToCheck } from '../doctor/checks/config.js';
import { checkDatabase } from '../doctor/checks/database.js';
import { checkPostgres } from '../doctor/checks/postgres.js';
import { checkGitHub } from '../doctor/checks/github.js';
import { checkFrontDoor } from '../doctor/checks/front-door.js';
import { checkHooksFile } from '../doctor/checks/hooks-file.js';
import { checkRepositorySettings } from '../doctor/checks/repository-settings.js';
import { guarded } from '../doctor/check.js';
import type { DoctorFlags } from '../doctor/flags.js';
import { Report } from '../doctor/report.js';
import { EXIT } from '../exit-codes.js';
import { isPostgresUrl } from '../store/open-store.js';

export type { Check, CheckStatus } from '../doctor/check.js';
export type { DoctorFlags } from '../doctor/flags.js';
export { formatCheck, redact } from '../doctor/report.js';

/**
 * `hls doctor`: checks the config, the database file, the GitHub token, the Anthropic key,
 * (with --hooks) the relay's hooks file and (with front_door.allowlist_file) the nginx allowlist.
 * One line per check; exit 1 when any check failed (a WARN line does not count).
 * Secrets are never printed: every detail is scrubbed of the values it could contain.
 */
export async function runDoctor(flags: DoctorFlags, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const report = new Report(
    [env.GITHUB_TOKEN, env.ANTHROPIC_API_KEY, env.HLS_GITHUB_WEBHOOK_SECRET],
    Boolean(flags.json),
  );

  const { check: configCheck, context } = checkConfig(flags, env);
  if (context) {
    const { github, claude } = context.config;
    report.addSecrets(github.token, claude.api_key, github.webhook_secret);
  }
  report.add(configCheck);
  const database = databaseToCheck(flags, env, context);
  if (database !== undefined && isPostgresUrl(database)) {
    report.addSecrets(urlPassword(database), env.PGPASSWORD);
    report.add(...(await guarded('database', () => checkPostgres(database))));
  } else {
    report.add(...(await guarded('database', () => checkDatabase(database))));
  }
  report.add(...(await guarded('github token', () => checkGitHub(context, env))));
  report.add(...(await guarded('repository settings', () => checkRepositorySettings(context, env))));
  report.add(...(await guarded('anthropic key', () => checkAnthropic(context, env))));
  report.add(...(await guarded('hooks file', () => checkHooksFile(flags.hooks))));
  report.add(...(await guarded('allowlist', () => checkFrontDoor(context, env))));

  return report.finish() ? EXIT.OK : EXIT.FAILURE;
}

function urlPassword(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}
