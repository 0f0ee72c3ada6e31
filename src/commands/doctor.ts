import { checkAnthropic } from '../doctor/checks/anthropic.js';
import { checkConfig, databasePath } from '../doctor/checks/config.js';
import { checkDatabase } from '../doctor/checks/database.js';
import { checkGitHub } from '../doctor/checks/github.js';
import { checkHooksFile } from '../doctor/checks/hooks-file.js';
import { guarded } from '../doctor/check.js';
import type { DoctorFlags } from '../doctor/flags.js';
import { Report } from '../doctor/report.js';
import { EXIT } from '../exit-codes.js';

export type { Check, CheckStatus } from '../doctor/check.js';
export type { DoctorFlags } from '../doctor/flags.js';
export { formatCheck, redact } from '../doctor/report.js';

/**
 * `hls doctor`: checks the config, the database file, the GitHub token, the Anthropic key and
 * (with --hooks) the relay's hooks file. One line per check; exit 1 when any check failed.
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
  report.add(...(await guarded('database', () => checkDatabase(databasePath(flags, env, context)))));
  report.add(...(await guarded('github token', () => checkGitHub(context, env))));
  report.add(...(await guarded('anthropic key', () => checkAnthropic(context, env))));
  report.add(...(await guarded('hooks file', () => checkHooksFile(flags.hooks))));

  return report.finish() ? EXIT.OK : EXIT.FAILURE;
}
