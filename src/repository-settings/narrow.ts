import * as z from 'zod';
import { RANGES } from '../config/ranges.js';
import type { RepositoryConfig } from '../pipeline/filter.js';
import { readSettingsTree } from './read-file.js';

/** The repository's own settings file, read from its default branch. */
export const SETTINGS_PATH = '.github/hls.yml';
export const MAX_GUIDANCE_CHARS = 2000;
/** Reasons listed at most; a file with more ignored keys gets one line saying how many more. */
const MAX_REASONS = 20;
/** Characters of a key or value quoted in a reason. */
const QUOTED_CHARS = 60;

/** What one event of a repository runs with: the operator's entry, narrowed by the repository's file. */
export interface EffectiveRepository extends RepositoryConfig {
  min_body_length: number;
  debounce_seconds: number;
  /** The maintainers' own triage guidance, rendered in every prompt; null without one. */
  guidance: string | null;
}

/** What the operator configured for a repository: the ceiling the file narrows. */
export interface OperatorSettings {
  repo: RepositoryConfig;
  /** The global filters the file may narrow per repository. */
  filters: { min_body_length: number; debounce_seconds: number };
  /** The handlers' actions for each event whose actions the operator does not list. */
  defaultActions: Readonly<Record<string, readonly string[]>>;
}

/** The repository's file as last read: `content` null when it does not exist. */
export interface SettingsFile {
  sha: string | null;
  content: string | null;
}

export type SettingsFileState =
  | { state: 'not read'; reason: string }
  | { state: 'absent' }
  | { state: 'invalid'; sha: string | null; reason: string }
  | { state: 'valid'; sha: string | null; ignored: string[] };

export interface NarrowedSettings {
  repository: EffectiveRepository;
  /** The effective keys the file set: events, actions.<event>, labels.allowed, min_body_length, … */
  fromFile: string[];
  file: SettingsFileState;
}

/** The operator's settings as they are, with the reason the file did not change them. */
export function operatorSettings(operator: OperatorSettings, file: SettingsFileState): NarrowedSettings {
  return {
    repository: {
      ...operator.repo,
      min_body_length: operator.filters.min_body_length,
      debounce_seconds: operator.filters.debounce_seconds,
      guidance: null,
    },
    fromFile: [],
    file,
  };
}

/**
 * The effective settings of a repository: each key of its file may only narrow the operator's (a subset
 * of events, actions and allowed labels, a longer minimum length, a lower budget) or set the debounce
 * within its range and the guidance; anything else is ignored with a reason. A file that is not YAML,
 * not a mapping, too large, or whose known keys have the wrong type leaves the operator's settings whole.
 */
export function narrowSettings(operator: OperatorSettings, file: SettingsFile | undefined): NarrowedSettings {
  if (!file || file.content === null) return operatorSettings(operator, { state: 'absent' });
  const read = readSettingsTree(file.content);
  if ('invalid' in read) return operatorSettings(operator, { state: 'invalid', sha: file.sha, reason: read.invalid });
  const narrowing = new Narrowing(operator);
  try {
    for (const key of Object.keys(read.tree)) narrowing.apply(key, read.tree[key]);
  } catch (error) {
    if (!(error instanceof WrongType)) throw error;
    return operatorSettings(operator, { state: 'invalid', sha: file.sha, reason: error.message });
  }
  return {
    repository: narrowing.repository,
    fromFile: narrowing.fromFile,
    file: { state: 'valid', sha: file.sha, ignored: narrowing.reasons() },
  };
}

/** A known key with a value of the wrong type: the whole file is invalid. */
class WrongType extends Error {}

const stringList = z.array(z.string());
const integer = z.number().int();
const finite = z.number();
const text = z.string();

/** Keys only the operator sets, with why the file cannot. */
const OPERATOR_ONLY: Record<string, string> = {
  name: 'the file applies to the repository it is in',
  repository: 'the file applies to the repository it is in',
  repositories: 'the file applies to the repository it is in',
  enabled: 'only the operator enables a repository',
  model: 'the model is chosen by the operator',
  max_tokens: 'only the operator sets max_tokens',
  claude: 'the model, its limits and prices are the operator’s',
  prices: 'prices are the operator’s',
  template: 'templates are the operator’s',
  templates: 'templates are the operator’s',
  prompts_dir: 'templates are the operator’s',
  github: 'credentials and GitHub settings are the operator’s',
  token: 'credentials are the operator’s',
  comments: 'only the operator turns comments on or off',
  filters: 'set min_body_length or debounce_seconds at the top level',
};

class Narrowing {
  readonly repository: EffectiveRepository;
  readonly fromFile: string[] = [];
  private readonly ignored: string[] = [];

  constructor(private readonly operator: OperatorSettings) {
    this.repository = operatorSettings(operator, { state: 'absent' }).repository;
  }

  apply(key: string, value: unknown): void {
    switch (key) {
      case 'events':
        return this.events(checked(key, value, stringList, 'a list of event names'));
      case 'actions':
        return this.actions(expectMapping(key, value));
      case 'labels':
        return this.labels(expectMapping(key, value));
      case 'min_body_length':
        return this.minBodyLength(checked(key, value, integer, 'a whole number'));
      case 'daily_budget_usd':
        return this.budget(checked(key, value, finite, 'a number'));
      case 'debounce_seconds':
        return this.debounce(checked(key, value, finite, 'a number'));
      case 'guidance':
        return this.guidance(checked(key, value, text, 'a text'));
      default:
        this.ignore(
          quote(key),
          Object.hasOwn(OPERATOR_ONLY, key) ? OPERATOR_ONLY[key]! : 'not a setting of .github/hls.yml',
        );
    }
  }

  reasons(): string[] {
    if (this.ignored.length <= MAX_REASONS) return [...this.ignored];
    return [...this.ignored.slice(0, MAX_REASONS), `… and ${this.ignored.length - MAX_REASONS} more ignored`];
  }

  private ignore(what: string, why: string): void {
    this.ignored.push(`${what}: ${why}: ignored`);
  }

  private set(key: string): void {
    if (!this.fromFile.includes(key)) this.fromFile.push(key);
  }

  private events(wanted: string[]): void {
    const enabled = this.operator.repo.events as string[];
    for (const name of wanted) {
      if (!enabled.includes(name)) this.ignore(`events: ${quote(name)}`, 'not an event the operator enabled');
    }
    this.repository.events = enabled.filter((name) => wanted.includes(name)) as EffectiveRepository['events'];
    this.set('events');
  }

  private actions(perEvent: Record<string, unknown>): void {
    const operatorActions = this.operator.repo.actions as Record<string, string[] | undefined>;
    const narrowed: Record<string, string[]> = { ...operatorActions } as Record<string, string[]>;
    for (const event of Object.keys(perEvent)) {
      const where = `actions.${quoteKey(event)}`;
      const wanted = checked(where, perEvent[event], stringList, 'a list of actions');
      const known = (this.operator.repo.events as string[]).includes(event)
        ? (operatorActions[event] ?? this.operator.defaultActions[event])
        : undefined;
      if (!known) {
        this.ignore(where, 'not an event the operator enabled');
        continue;
      }
      for (const action of wanted) {
        if (!known.includes(action)) this.ignore(`${where}: ${quote(action)}`, 'not an action the operator enabled');
      }
      narrowed[event] = known.filter((action) => wanted.includes(action));
      this.set(`actions.${event}`);
    }
    this.repository.actions = narrowed as EffectiveRepository['actions'];
  }

  private labels(labels: Record<string, unknown>): void {
    for (const key of Object.keys(labels)) {
      if (key !== 'allowed') {
        this.ignore(`labels.${quoteKey(key)}`, 'only labels.allowed can be set in .github/hls.yml');
        continue;
      }
      const wanted = checked('labels.allowed', labels.allowed, stringList, 'a list of label names');
      const lowered = new Set(wanted.map((name) => name.toLowerCase()));
      const allowlist = this.operator.repo.labels.allowed;
      for (const name of wanted) {
        if (!allowlist.some((label) => label.toLowerCase() === name.toLowerCase())) {
          this.ignore(`labels.allowed: ${quote(name)}`, "not in the operator's allowlist");
        }
      }
      this.repository.labels = {
        ...this.repository.labels,
        allowed: allowlist.filter((label) => lowered.has(label.toLowerCase())),
      };
      this.set('labels.allowed');
    }
  }

  private minBodyLength(length: number): void {
    const floor = this.operator.filters.min_body_length;
    if (length < floor) {
      this.ignore(`min_body_length: ${length}`, `shorter than the operator's ${floor}`);
      return;
    }
    this.repository.min_body_length = length;
    this.set('min_body_length');
  }

  private budget(usd: number): void {
    const ceiling = this.operator.repo.daily_budget_usd;
    if (usd < 0) return this.ignore(`daily_budget_usd: ${usd}`, 'a budget cannot be negative');
    if (ceiling !== undefined && usd > ceiling) {
      return this.ignore(`daily_budget_usd: ${usd}`, `higher than the operator's ${ceiling}`);
    }
    this.repository.daily_budget_usd = usd;
    this.set('daily_budget_usd');
  }

  private debounce(seconds: number): void {
    const { min, max } = RANGES.debounce;
    if (seconds < min / 1000 || seconds > max / 1000) {
      return this.ignore(`debounce_seconds: ${seconds}`, `outside ${min / 1000} to ${max / 1000} seconds`);
    }
    this.repository.debounce_seconds = seconds;
    this.set('debounce_seconds');
  }

  private guidance(guidance: string): void {
    const length = [...guidance].length;
    if (length > MAX_GUIDANCE_CHARS) {
      return this.ignore('guidance', `${length} characters, more than ${MAX_GUIDANCE_CHARS}`);
    }
    this.repository.guidance = guidance.trim() || null;
    this.set('guidance');
  }
}

function checked<T>(key: string, value: unknown, schema: z.ZodType<T>, expected: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new WrongType(`${key}: expected ${expected}, got ${kindOf(value)}`);
  return parsed.data;
}

function expectMapping(key: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new WrongType(`${key}: expected a mapping, got ${kindOf(value)}`);
  }
  return value as Record<string, unknown>;
}

/** What a value of the wrong type is, without repeating it (it may be long). */
function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) {
    const odd = value.find((item) => typeof item !== 'string');
    return odd === undefined ? 'a list' : `a list holding ${kindOf(odd)}`;
  }
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (!Number.isFinite(value)) return 'an infinite number';
    return Number.isSafeInteger(value) ? 'a number' : 'a number with a fraction or out of range';
  }
  if (typeof value === 'string') return `a text (${quote(value)})`;
  if (typeof value === 'boolean') return `${value}`;
  return 'a mapping';
}

/** A key or value from the file, quoted on one line and cut short. */
function quote(value: string): string {
  const cut = value.length > QUOTED_CHARS ? `${value.slice(0, QUOTED_CHARS)}…` : value;
  return JSON.stringify(cut);
}

/** A key in a dotted path: as is when it is a plain name, else quoted. */
function quoteKey(key: string): string {
  return /^[\w-]{1,60}$/.test(key) ? key : quote(key);
}
