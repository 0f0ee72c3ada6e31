import type { GlobalOptions } from '../commands/context.js';

export interface DoctorFlags extends GlobalOptions {
  hooks?: string;
  json?: boolean;
}
