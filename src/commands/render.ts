import { describeGitHubError, isGitHubFailure } from '../clients/github.js';
import { CliError, EXIT } from '../exit-codes.js';
import { repositoryConfig } from '../pipeline/filter.js';
import { TRIAGE_SPECS } from '../pipeline/handlers/index.js';
import { loadSystemPrompt } from '../pipeline/prompt.js';
import { triagePayload } from '../pipeline/payload.js';
import { services } from '../pipeline/services.js';
import { preparePrompt } from '../pipeline/triage.js';
import { repositorySettings } from '../repository-settings/effective.js';
import { commandContext, withStore, type GlobalOptions } from './command-context.js';
import { printJson, printLines } from './format.js';

export interface RenderFlags extends GlobalOptions {
  json?: boolean;
}

/** `hls render ID|DELIVERY`: the exact system and user prompt the worker would send for an event. */
export async function runRender(ref: string, flags: RenderFlags): Promise<number> {
  const { config, database, log } = commandContext(flags);
  return withStore(database, async (store) => {
    const event = await store.queue.find(ref);
    if (!event) throw new CliError(`no event with id or delivery "${ref}"`, EXIT.NO_INPUT);
    const spec = TRIAGE_SPECS[event.event_type];
    if (!spec) throw new CliError(`hls does not analyse ${event.event_type} events, so there is no prompt`, EXIT.DATA);
    const repo = repositoryConfig(config, event.repository);
    if (!repo)
      throw new CliError(
        `repository ${event.repository ?? '(none)'} is not configured: nothing would be sent`,
        EXIT.CONFIG,
      );
    if (!event.payload) throw new CliError(`event ${event.id}: payload was pruned`, EXIT.NO_INPUT);
    const payload = triagePayload(spec.payload, JSON.parse(event.payload.toString('utf8')) as Record<string, unknown>);
    const subject = spec.subject(payload);
    if (!subject)
      throw new CliError(`event ${event.id} has no issue, pull request or release in its payload`, EXIT.DATA);
    const access = services(config, log, store).github;
    // Strict: a settings file GitHub does not give is an error here, not a warning.
    const { choice, prompt } = await repositorySettings({ config, repo, store, access, log, strict: true })
      .then(async ({ repository }) => {
        const github = await access?.forRepository(repo.name);
        return preparePrompt(spec, { event, payload, config, store }, repository, subject, github);
      })
      .catch((error: unknown) => {
        if (!isGitHubFailure(error)) throw error;
        throw new CliError(`render: ${describeGitHubError(error, 'check the token and its access')}`, EXIT.UNAVAILABLE);
      });
    const system = loadSystemPrompt();
    if (flags.json) {
      printJson({
        event_id: event.id,
        model: choice.model,
        max_tokens: choice.maxTokens,
        template: prompt.template,
        system,
        prompt: prompt.text,
      });
    } else {
      printLines([
        `# event ${event.id}  model ${choice.model}  max_tokens ${choice.maxTokens}  template ${prompt.template}`,
        '# system (cached)',
        system,
        '# user',
        prompt.text,
      ]);
    }
    return EXIT.OK;
  });
}
