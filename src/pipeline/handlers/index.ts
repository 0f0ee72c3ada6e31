import type { HandlerRegistry } from '../../worker/handlers.js';
import { triageHandler } from '../triage.js';
import { TRIAGE_SPECS } from './specs.js';

export { TRIAGE_SPECS } from './specs.js';

/** The built-in handlers; an operator's `handlers:` modules registered afterwards replace them. */
export function registerBuiltinHandlers(registry: HandlerRegistry): void {
  for (const [eventType, spec] of Object.entries(TRIAGE_SPECS)) registry.register(eventType, triageHandler(spec));
  registry.register('ping', async () => ({ skipped: 'ping: GitHub checking the hook' }));
}
