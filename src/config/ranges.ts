import type { MsRange } from '../duration.js';

const SECOND = 1000;
const HOUR = 3600 * SECOND;
const DAY = 24 * HOUR;

/**
 * Allowed values, in milliseconds, of every setting that becomes a timer or a wait, shared by the flags
 * and the config keys that set them (all well under Node's 2^31 ms timer limit; see docs/configuration.md).
 */
export const RANGES = {
  lease: { min: 100, max: DAY },
  grace: { min: 0, max: DAY },
  poll: { min: 10, max: HOUR },
  backoffBase: { min: 10, max: DAY },
  backoffMax: { min: 10, max: 7 * DAY },
  requestTimeout: { min: SECOND, max: HOUR },
  pacingInterval: { min: 0, max: HOUR },
  pacingWindow: { min: SECOND, max: DAY },
  pacingMaxWait: { min: SECOND, max: HOUR },
  spendLimitRecheck: { min: SECOND, max: DAY },
  debounce: { min: 0, max: DAY },
  labelCache: { min: 0, max: 7 * DAY },
  settingsFileTtl: { min: 0, max: DAY },
  redeliveryPace: { min: 0, max: 60 * SECOND },
} as const satisfies Record<string, MsRange>;
