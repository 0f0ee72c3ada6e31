import type { GlobalOptions } from '../commands/command-context.js';

export interface DoctorFlags extends GlobalOptions {
  hooks?: string;
  json?: boolean;
}
