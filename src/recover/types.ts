import type { GitHub } from '../clients/github.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';

export type Scope = 'repository' | 'organization' | 'app';

/** A webhook whose delivery log is read: a repository's (`owner/repo`), an organisation's, or the GitHub App's own (hookId: the App id). */
export interface Target {
  scope: Scope;
  name: string;
  hookId: number;
}

/** One entry of a hook's delivery log (GitHub's hook-delivery-item), the fields hls reads. */
export interface Delivery {
  id: number;
  guid: string;
  delivered_at: string;
  redelivery: boolean;
  status: string;
  status_code: number;
  event: string;
  action: string | null;
}

export interface MissingDelivery {
  guid: string;
  /** The most recent attempt's delivery id: the one redelivered. */
  delivery_id: number;
  event: string;
  action: string | null;
  delivered_at: string;
  status_code: number;
  status: string;
  attempts: number;
  redelivered: boolean;
}

export interface HookResult {
  scope: Scope;
  name: string;
  hook_id: number;
  /** Distinct deliveries (guids) within the window. */
  checked: number;
  stored: number;
  missing: number;
  redelivered: number;
  deliveries: MissingDelivery[];
}

export interface Unresolved {
  scope: Scope;
  name: string;
  reason: string;
}

export interface Page {
  data: Delivery[];
  link: string | undefined;
}

export interface RecoveryOptions {
  sinceMs: number;
  dryRun: boolean;
  paceMs: number;
  emit: (lines: string[]) => void;
}

/** What one run of recover reads from, writes to and collects. */
export interface Recovery {
  github: GitHub;
  store: Store;
  log: Logger;
  options: RecoveryOptions;
  results: HookResult[];
  unresolved: Unresolved[];
  redeliver: (github: GitHub, target: Target, deliveryId: number) => Promise<void>;
}
