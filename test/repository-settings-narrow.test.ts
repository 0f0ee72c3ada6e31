// The narrowing of a repository's .github/hls.yml against the operator's settings (pure): what a file
// may change, what it may not (each ignored with its reason), what makes it invalid as a whole, and
// generated and adversarial files that must never widen anything nor throw.
import { describe, expect, it } from 'vitest';
import { configSchema } from '../src/config/schema.js';
import { DEFAULT_ACTIONS } from '../src/pipeline/handlers/specs.js';
import {
  MAX_GUIDANCE_CHARS,
  narrowSettings,
  type EffectiveRepository,
  type NarrowedSettings,
  type OperatorSettings,
} from '../src/repository-settings/narrow.js';
import { MAX_SETTINGS_BYTES, unreadableContent } from '../src/repository-settings/read-file.js';
import { pick, seededRandom } from './helpers/random.js';

/** The operator's entry every test narrows: frozen, so that a narrowing that wrote into it would throw. */
function operator(extra: Record<string, unknown> = {}): OperatorSettings {
  const config = configSchema.parse({
    repositories: [
      {
        name: 'octo-org/widgets',
        events: ['issues', 'issue_comment', 'pull_request'],
        actions: { issues: ['opened', 'reopened', 'edited'] },
        labels: { allowed: ['bug', 'Enhancement', 'question', 'docs'], priority: { high: 'priority: high' } },
        daily_budget_usd: 5,
        ...extra,
      },
    ],
    filters: { min_body_length: 20, debounce_seconds: 30 },
  });
  return deepFreeze({ repo: config.repositories[0]!, filters: config.filters, defaultActions: DEFAULT_ACTIONS });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

const narrow = (content: string | null, base = operator()): NarrowedSettings =>
  narrowSettings(base, { sha: 'a1b2c3d4e5f6', content });

/** The effective settings a file that changes nothing gives. */
const unchanged = (base = operator()): EffectiveRepository => narrow(null, base).repository;

const ignoredOf = (result: NarrowedSettings): string[] => (result.file.state === 'valid' ? result.file.ignored : []);
const invalidReason = (result: NarrowedSettings): string | undefined =>
  result.file.state === 'invalid' ? result.file.reason : undefined;

describe('a file that narrows', () => {
  it('takes a subset of events, actions and labels, a longer minimum, a lower budget, another debounce and guidance', () => {
    const result = narrow(
      [
        'events: [issues, pull_request]',
        'actions:',
        '  issues: [opened]',
        '  pull_request: [opened, synchronize]',
        'labels:',
        '  allowed: [BUG, enhancement]',
        'min_body_length: 80',
        'daily_budget_usd: 1.5',
        'debounce_seconds: 120',
        'guidance: |',
        '  We ship firmware; ask for the board revision.',
      ].join('\n'),
    );
    expect(result.file).toEqual({ state: 'valid', sha: 'a1b2c3d4e5f6', ignored: [] });
    expect(result.repository).toMatchObject({
      name: 'octo-org/widgets',
      events: ['issues', 'pull_request'],
      actions: { issues: ['opened'], pull_request: ['opened', 'synchronize'] },
      // The operator's spelling of each label is kept.
      labels: { allowed: ['bug', 'Enhancement'], priority: { high: 'priority: high' } },
      min_body_length: 80,
      daily_budget_usd: 1.5,
      debounce_seconds: 120,
      guidance: 'We ship firmware; ask for the board revision.',
    });
    expect(result.fromFile.sort()).toEqual(
      [
        'actions.issues',
        'actions.pull_request',
        'daily_budget_usd',
        'debounce_seconds',
        'events',
        'guidance',
        'labels.allowed',
        'min_body_length',
      ].sort(),
    );
  });

  it('an empty file, or one with only comments, narrows nothing and is valid', () => {
    for (const content of ['', '# nothing yet\n', '---\n']) {
      const result = narrow(content);
      expect(result.file).toEqual({ state: 'valid', sha: 'a1b2c3d4e5f6', ignored: [] });
      expect(result.repository).toEqual(unchanged());
    }
  });

  it('no file: the operator’s settings, with the global filters', () => {
    const result = narrow(null);
    expect(result.file).toEqual({ state: 'absent' });
    expect(result.repository).toMatchObject({ min_body_length: 20, debounce_seconds: 30, guidance: null });
  });

  it('any budget of at least 0 when the operator has no per-repository budget', () => {
    const base = operator({ daily_budget_usd: undefined });
    expect(narrow('daily_budget_usd: 1000', base).repository.daily_budget_usd).toBe(1000);
    expect(narrow('daily_budget_usd: 0', base).repository.daily_budget_usd).toBe(0);
    const negative = narrow('daily_budget_usd: -1', base);
    expect(negative.repository.daily_budget_usd).toBeUndefined();
    expect(ignoredOf(negative)).toEqual(['daily_budget_usd: -1: a budget cannot be negative: ignored']);
  });

  it('actions of an event the operator lists none for narrow the handler’s defaults', () => {
    const result = narrow('actions:\n  pull_request: [opened, closed]\n');
    expect((result.repository.actions as Record<string, string[]>).pull_request).toEqual(['opened']);
    expect(ignoredOf(result)).toEqual(['actions.pull_request: "closed": not an action the operator enabled: ignored']);
  });
});

describe('a file that tries to widen', () => {
  it('ignores every widening key with its reason and keeps the operator’s value', () => {
    const result = narrow(
      [
        'events: [issues, push, workflow_run]',
        'actions:',
        '  issues: [opened, closed]',
        '  push: [created]',
        'labels:',
        '  allowed: [bug, wontfix]',
        '  priority: {high: urgent}',
        'min_body_length: 5',
        'daily_budget_usd: 50',
        'debounce_seconds: 90000',
        `guidance: "${'x'.repeat(MAX_GUIDANCE_CHARS + 1)}"`,
        'name: someone/else',
        'repositories: [{name: someone/else}]',
        'model: claude-opus-5-5',
        'max_tokens: 64000',
        'prices: {claude-opus-5-5: {input: 0}}',
        'templates: /etc',
        'prompts_dir: /tmp/evil',
        'token: ghp_stolen',
        'enabled: true',
        'colour: blue',
      ].join('\n'),
    );
    expect(result.file.state).toBe('valid');
    expect(ignoredOf(result)).toEqual([
      'events: "push": not an event the operator enabled: ignored',
      'events: "workflow_run": not an event the operator enabled: ignored',
      'actions.issues: "closed": not an action the operator enabled: ignored',
      'actions.push: not an event the operator enabled: ignored',
      'labels.allowed: "wontfix": not in the operator\'s allowlist: ignored',
      'labels.priority: only labels.allowed can be set in .github/hls.yml: ignored',
      "min_body_length: 5: shorter than the operator's 20: ignored",
      "daily_budget_usd: 50: higher than the operator's 5: ignored",
      'debounce_seconds: 90000: outside 0 to 86400 seconds: ignored',
      `guidance: ${MAX_GUIDANCE_CHARS + 1} characters, more than ${MAX_GUIDANCE_CHARS}: ignored`,
      '"name": the file applies to the repository it is in: ignored',
      '"repositories": the file applies to the repository it is in: ignored',
      '"model": the model is chosen by the operator: ignored',
      '"max_tokens": only the operator sets max_tokens: ignored',
      '"prices": prices are the operator’s: ignored',
      '"templates": templates are the operator’s: ignored',
      '"prompts_dir": templates are the operator’s: ignored',
      '"token": credentials are the operator’s: ignored',
      '"enabled": only the operator enables a repository: ignored',
      '"colour": not a setting of .github/hls.yml: ignored',
    ]);
    // What is left: the subsets that were inside the operator's settings.
    const base = unchanged();
    expect(result.repository).toEqual({
      ...base,
      events: ['issues'],
      actions: { issues: ['opened'] },
      labels: { ...base.labels, allowed: ['bug'] },
    });
    expect(result.repository.name).toBe('octo-org/widgets');
    expect(result.repository.prompts_dir).toBeUndefined();
  });

  it('lists at most 20 reasons, then how many more', () => {
    const keys = Array.from({ length: 45 }, (_, i) => `key${i}: ${i}`).join('\n');
    const ignored = ignoredOf(narrow(keys));
    expect(ignored).toHaveLength(21);
    expect(ignored.at(-1)).toBe('… and 25 more ignored');
  });

  it('quotes long or multi-line keys and values on one short line', () => {
    const long = 'w'.repeat(5000);
    const ignored = ignoredOf(narrow(`labels:\n  allowed: ["${long}", "a\\nb"]\n"evil\\nkey": 1\n`));
    for (const reason of ignored) {
      expect(reason).not.toContain('\n');
      expect(reason.length).toBeLessThan(150);
    }
    expect(ignored).toContain('labels.allowed: "a\\nb": not in the operator\'s allowlist: ignored');
    expect(ignored).toContain('"evil\\nkey": not a setting of .github/hls.yml: ignored');
  });
});

describe('an invalid file leaves the operator’s settings whole', () => {
  const cases: [name: string, content: string, reason: RegExp | string][] = [
    ['not YAML', 'events: [issues\n', /^not valid YAML: /],
    ['a duplicate key', 'min_body_length: 50\nmin_body_length: 60\n', /^not valid YAML: Map keys must be unique/],
    ['two documents', 'events: [issues]\n---\nevents: []\n', 'not valid YAML: more than one document'],
    ['a list', '- issues\n- pull_request\n', 'not a mapping of settings (key: value)'],
    ['a scalar', 'just text', 'not a mapping of settings (key: value)'],
    ['an unknown tag', 'guidance: !!js/function "() => 1"\n', /^not valid YAML: /],
    ['too large', `# ${'x'.repeat(MAX_SETTINGS_BYTES)}\n`, 'larger than 16 KiB'],
    ['unreadable', unreadableContent('not UTF-8 text'), 'not UTF-8 text'],
    ['a number as a string', 'min_body_length: "50"\n', 'min_body_length: expected a whole number, got a text ("50")'],
    [
      'a fraction',
      'min_body_length: 50.5\n',
      'min_body_length: expected a whole number, got a number with a fraction or out of range',
    ],
    ['NaN', 'daily_budget_usd: .nan\n', 'daily_budget_usd: expected a number, got NaN'],
    ['Infinity', 'debounce_seconds: .inf\n', 'debounce_seconds: expected a number, got an infinite number'],
    ['-Infinity', 'daily_budget_usd: -.inf\n', 'daily_budget_usd: expected a number, got an infinite number'],
    ['a huge integer', 'min_body_length: 1e400\n', 'min_body_length: expected a whole number, got an infinite number'],
    [
      'non-string labels',
      'labels:\n  allowed: [bug, 42, true]\n',
      'labels.allowed: expected a list of label names, got a list holding a number',
    ],
    [
      'a label list as text',
      'labels:\n  allowed: bug\n',
      'labels.allowed: expected a list of label names, got a text ("bug")',
    ],
    ['labels as a list', 'labels: [bug]\n', 'labels: expected a mapping, got a list'],
    ['events as a mapping', 'events: {issues: true}\n', 'events: expected a list of event names, got a mapping'],
    ['null events', 'events:\n', 'events: expected a list of event names, got nothing'],
    ['actions as a list', 'actions: [opened]\n', 'actions: expected a mapping, got a list'],
    [
      'an action list of numbers',
      'actions:\n  issues: [1]\n',
      'actions.issues: expected a list of actions, got a list holding a number',
    ],
    ['guidance as a list', 'guidance: [a, b]\n', 'guidance: expected a text, got a list'],
    ['a budget as a boolean', 'daily_budget_usd: false\n', 'daily_budget_usd: expected a number, got false'],
  ];

  it.each(cases)('%s', (_name, content, reason) => {
    const result = narrow(content);
    expect(result.file.state).toBe('invalid');
    if (typeof reason === 'string') expect(invalidReason(result)).toBe(reason);
    else expect(invalidReason(result)).toMatch(reason);
    expect(result.repository).toEqual(unchanged());
    expect(result.fromFile).toEqual([]);
  });

  it('refuses an alias bomb quickly, without building it', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++) {
      const refs = Array.from({ length: 10 }, () => `*${String.fromCharCode(96 + i)}`).join(', ');
      lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${refs}]`);
    }
    const result = narrow(lines.join('\n'));
    expect(invalidReason(result)).toMatch(/^not valid YAML: Excessive alias count/);
    expect(result.repository).toEqual(unchanged());
  });
});

describe('adversarial keys', () => {
  it('__proto__, constructor and prototype keys are ignored and pollute nothing', () => {
    const result = narrow(
      [
        '__proto__: {polluted: yes, events: [push]}',
        'constructor: {prototype: {polluted: yes}}',
        'prototype: {polluted: yes}',
        'actions:',
        '  __proto__: [opened]',
        '  constructor: [opened]',
        'labels:',
        '  __proto__: {allowed: [wontfix]}',
        '  allowed: [bug]',
      ].join('\n'),
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(result.repository)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(result.repository.actions)).toBe(Object.prototype);
    expect(result.repository.events).toEqual(unchanged().events);
    expect(result.repository.labels.allowed).toEqual(['bug']);
    expect(ignoredOf(result)).toEqual([
      '"__proto__": not a setting of .github/hls.yml: ignored',
      '"constructor": not a setting of .github/hls.yml: ignored',
      '"prototype": not a setting of .github/hls.yml: ignored',
      'actions.__proto__: not an event the operator enabled: ignored',
      'actions.constructor: not an event the operator enabled: ignored',
      'labels.__proto__: only labels.allowed can be set in .github/hls.yml: ignored',
    ]);
  });
});

describe('generated files never widen and never throw', () => {
  const EVENTS = ['issues', 'issue_comment', 'pull_request', 'push', 'release', 'workflow_run', '__proto__', ''];
  const ACTIONS = ['opened', 'reopened', 'edited', 'closed', 'synchronize', 'created', 'deleted', 'constructor'];
  const LABELS = ['bug', 'BUG', 'Enhancement', 'question', 'docs', 'wontfix', 'priority: high', '', 'x'.repeat(300)];
  const NUMBERS = [
    '-1',
    '0',
    '5',
    '19',
    '20',
    '21',
    '1e3',
    '86400',
    '86401',
    '4.5',
    '.nan',
    '.inf',
    '"7"',
    'null',
    'true',
  ];

  function randomFile(random: () => number): string {
    const some = <T>(items: readonly T[]) => items.filter(() => random() < 0.4);
    const list = (items: readonly string[]) =>
      `[${some(items)
        .map((item) => JSON.stringify(item))
        .join(', ')}]`;
    const lines: string[] = [];
    if (random() < 0.6) lines.push(`events: ${list(EVENTS)}`);
    if (random() < 0.6) {
      lines.push('actions:', ...some(EVENTS).map((event) => `  ${JSON.stringify(event)}: ${list(ACTIONS)}`));
      if (lines.at(-1) === 'actions:') lines.pop();
    }
    if (random() < 0.6) lines.push('labels:', `  allowed: ${list(LABELS)}`);
    for (const key of ['min_body_length', 'daily_budget_usd', 'debounce_seconds']) {
      if (random() < 0.5) lines.push(`${key}: ${pick(random, NUMBERS)}`);
    }
    if (random() < 0.3)
      lines.push(`guidance: ${JSON.stringify('g'.repeat(Math.floor(random() * 2 * MAX_GUIDANCE_CHARS)))}`);
    if (random() < 0.3) lines.push(`${pick(random, ['model', 'token', 'name', 'zzz', '__proto__'])}: 1`);
    return lines.join('\n');
  }

  it('500 seeded files: every effective value is within the operator’s', () => {
    const random = seededRandom(12);
    const base = operator();
    const ceiling = unchanged(base);
    let valid = 0;
    for (let i = 0; i < 500; i++) {
      const result = narrow(randomFile(random), base);
      const effective = result.repository;
      if (result.file.state === 'valid') valid++;
      else expect(effective).toEqual(ceiling);
      expect(ceiling.events).toEqual(expect.arrayContaining(effective.events));
      for (const [event, actions] of Object.entries(effective.actions as Record<string, string[]>)) {
        const allowed = (ceiling.actions as Record<string, string[]>)[event] ?? DEFAULT_ACTIONS[event] ?? [];
        expect(allowed).toEqual(expect.arrayContaining(actions));
      }
      expect(ceiling.labels.allowed).toEqual(expect.arrayContaining(effective.labels.allowed));
      expect(effective.labels).toMatchObject({ priority: ceiling.labels.priority, auto_apply: true });
      expect(effective.min_body_length).toBeGreaterThanOrEqual(20);
      expect(effective.daily_budget_usd).toBeGreaterThanOrEqual(0);
      expect(effective.daily_budget_usd).toBeLessThanOrEqual(5);
      expect(effective.debounce_seconds).toBeGreaterThanOrEqual(0);
      expect(effective.debounce_seconds).toBeLessThanOrEqual(86_400);
      expect([...(effective.guidance ?? '')].length).toBeLessThanOrEqual(MAX_GUIDANCE_CHARS);
      expect(effective.name).toBe('octo-org/widgets');
    }
    // The generator makes both kinds.
    expect(valid).toBeGreaterThan(50);
    expect(valid).toBeLessThan(500);
  });

  it('random bytes and mangled YAML are valid or invalid, never an exception', () => {
    const random = seededRandom(99);
    const alphabet = [
      'a',
      ':',
      ' ',
      '\n',
      '-',
      '[',
      ']',
      '{',
      '}',
      '&',
      '*',
      '!',
      '"',
      "'",
      '#',
      '|',
      '>',
      '?',
      '%',
      '@',
      '\t',
      '\u0000',
      'é',
    ];
    for (let i = 0; i < 300; i++) {
      const text = Array.from({ length: Math.floor(random() * 200) }, () => pick(random, alphabet)).join('');
      const result = narrow(text);
      expect(['valid', 'invalid']).toContain(result.file.state);
    }
  });
});
