import type { HandlerRegistry } from '../../worker/handlers.js';
import { issuesHandler } from './issues.js';

/** The built-in handlers; an operator's `handlers:` modules registered afterwards replace them. */
export function registerBuiltinHandlers(registry: HandlerRegistry): void {
  registry.register('issues', issuesHandler);
}
