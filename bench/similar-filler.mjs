// Background issues for the related-issue search bench: deterministic, realistic-looking issue text from a
// seeded PRNG, templates and a broad vocabulary (with made-up identifiers, paths and versions so that no
// two of 100,000 read alike), to fill an index to 10k or 100k threads around the labelled corpus in
// bench/similar-corpus/. They describe made-up components of many kinds of software, never a corpus
// problem, so they are noise for the search, not extra duplicates.
// Usage: fillerIssues({ seed, count, startNumber }) → array; fillerIssueStream(...) yields the same one by one.

import { seededRandom } from './seeded-random.mjs';

const COMPONENTS = [
  'job scheduler',
  'retry queue',
  'config loader',
  'plugin registry',
  'REST client',
  'GraphQL resolver',
  'auth middleware',
  'session store',
  'cache layer',
  'message broker adapter',
  'image pipeline',
  'audio decoder',
  'shader compiler',
  'physics step',
  'tile renderer',
  'search indexer',
  'tokenizer',
  'model loader',
  'metrics exporter',
  'backup job',
  'installer',
  'self-updater',
  'theme engine',
  'keyboard handler',
  'gesture recognizer',
  'PDF parser',
  'CSV importer',
  'translation loader',
  'payment webhook handler',
  'rate limiter',
  'DNS resolver',
  'TLS handshake',
  'container runtime shim',
  'Helm chart',
  'Terraform provider',
  'Bluetooth pairing flow',
  'camera preview',
  'push notification service',
  'calendar sync',
  'map tile cache',
  'geocoder',
  'spell checker',
  'diff viewer',
  'git integration',
  'terminal emulator',
  'package resolver',
  'lockfile writer',
  'test runner',
  'coverage reporter',
  'profiler',
  'debug adapter',
  'language server',
  'syntax tree builder',
  'code formatter',
  'bundle splitter',
  'service worker',
  'video player',
  'subtitle parser',
  'accessibility tree',
  'audit log',
  'feature flag client',
  'email sender',
  'SMS gateway',
  'OAuth callback',
  'SAML assertion parser',
  'LDAP sync',
  'file watcher',
  'archive extractor',
  'thumbnail generator',
  'dependency injector',
  'event bus',
  'websocket gateway',
  'gRPC stub generator',
  'protobuf codec',
  'schema registry',
  'data exporter',
  'cron trigger',
  'webhook dispatcher',
  'sandbox runner',
  'clipboard bridge',
  'drag and drop handler',
  'window manager integration',
  'print preview',
  'font fallback',
  'color picker',
  'undo stack',
  'autosave',
  'conflict resolver',
  'replication worker',
  'vector store',
  'embedding cache',
  'prompt template engine',
  'tensor allocator',
  'GPU memory pool',
  'dataset sharder',
  'checkpoint writer',
  'inventory sync',
  'shopping cart',
  'invoice renderer',
  'tax calculator',
  'shipping label printer',
  'leaderboard',
  'matchmaking service',
  'save game loader',
  'asset streamer',
  'particle system',
];
const PLATFORMS = [
  'Ubuntu 22.04',
  'Ubuntu 24.04',
  'Debian 12',
  'Fedora 40',
  'Arch Linux',
  'Alpine 3.19',
  'macOS 13',
  'macOS 14',
  'macOS 15',
  'Windows 10',
  'Windows 11',
  'Windows Server 2022',
  'FreeBSD 14',
  'Android 13',
  'Android 14',
  'iOS 17',
  'iPadOS 17',
  'ChromeOS',
  'Raspberry Pi OS',
  'NixOS 24.05',
  'Amazon Linux 2023',
  'RHEL 9',
];
const RUNTIMES = [
  'Node 18',
  'Node 20',
  'Node 22',
  'Python 3.10',
  'Python 3.12',
  'Go 1.21',
  'Go 1.22',
  'Rust 1.78',
  'JDK 17',
  'JDK 21',
  '.NET 8',
  'Ruby 3.3',
  'PHP 8.3',
  'Deno 1.44',
  'Bun 1.1',
  'Electron 30',
  'Flutter 3.22',
  'Swift 5.10',
  'Kotlin 2.0',
  'Elixir 1.16',
];
const ERRORS = [
  ['TypeError', "Cannot read properties of undefined (reading '%ID%')"],
  ['ValueError', "invalid literal for int() with base 10: '%WORD%'"],
  ['NullPointerException', "Attempt to invoke virtual method '%ID%()' on a null object reference"],
  ['panic', 'runtime error: slice bounds out of range [:%N%] with capacity %M%'],
  ['KeyError', "'%WORD%_%WORD%'"],
  ['Error', "EACCES: permission denied, open '%PATH%'"],
  ['Error', 'connect ECONNREFUSED 127.0.0.1:%PORT%'],
  ['TimeoutError', 'operation %ID% timed out after %N%ms'],
  ['IllegalStateException', '%ID% called after shutdown'],
  ['RuntimeError', 'CUDA out of memory. Tried to allocate %N% MiB'],
  ['AssertionError', 'expected %N% to equal %M%'],
  ['SyntaxError', "Unexpected token '%WORD%' at line %N%"],
  ['OSError', "[Errno 28] No space left on device: '%PATH%'"],
  ["thread 'main' panicked", 'called `Option::unwrap()` on a `None` value at src/%WORD%.rs:%N%:%M%'],
  ['SQLSTATE[23000]', "Integrity constraint violation: 1062 Duplicate entry '%N%' for key '%WORD%'"],
  ['java.io.IOException', 'Stream closed while reading %WORD% header'],
  ['EXC_BAD_ACCESS', 'KERN_INVALID_ADDRESS at 0x%HEX%'],
  ['fatal', "unable to access '%PATH%': the requested URL returned error: %HTTP%"],
];
const SYMPTOMS = [
  'hangs forever',
  'returns an empty result',
  'throws an exception',
  'freezes the UI',
  'uses 100% CPU',
  'leaks file descriptors',
  'silently drops the last item',
  'reports the wrong total',
  'times out',
  'prints a garbled message',
  'corrupts the output file',
  'ignores the setting',
  'logs the same warning twice',
  'double-counts entries',
  "loses the user's selection",
  'flickers',
  'renders off by one pixel',
  'rejects valid input',
  'accepts invalid input',
  'stops after the first page',
  'skips every other record',
  'crashes the host process',
  'deadlocks',
  'shows a blank screen',
  'sends the request twice',
];
const CONDITIONS = [
  'the input is larger than %N% MB',
  'two instances start at the same time',
  'the path contains spaces',
  'the locale is set to %LOCALE%',
  'the traffic goes through a proxy',
  'the network drops for a few seconds',
  'the list is empty',
  'a name contains an emoji',
  'the laptop resumes from sleep',
  'it runs as a non-root user',
  'the option `%ID%` is enabled',
  'it runs a second time',
  'it runs inside a container',
  'the project is upgraded to %VERSION%',
  'the system clock jumps backwards',
  'the filesystem is read-only',
  'there are more than %N% items',
  'the session expires',
  'the interface language is right-to-left',
  'the display is high-DPI',
  'the server is under heavy load',
  'the cache directory is on NFS',
  'only IPv6 is available',
  'it is a fresh install',
  'the device is offline',
  'the file was saved by another tool',
  'the token was rotated',
  'a field is left blank',
  'the request carries a large header',
  'the time zone is %LOCALE%',
];
const FEATURES = [
  'a dry-run mode',
  'a JSON output format',
  'configurable retries',
  'an environment variable override',
  'a progress indicator',
  'per-user quotas',
  'a plugin hook',
  'batch processing',
  'a streaming API',
  'pagination',
  'a dark theme',
  'keyboard shortcuts',
  'an export to CSV',
  'import from YAML',
  'a health endpoint',
  'structured logs',
  'an OpenTelemetry exporter',
  'a timeout option',
  'a verbose flag',
  'a way to pin the version',
  'checksum verification',
  'incremental builds',
  'a cancel button',
  'webhooks',
];
const LOCALES = ['tr_TR', 'de_DE', 'ja_JP', 'ar_EG', 'pt_BR', 'fi_FI', 'zh_CN', 'he_IL', 'hi_IN', 'ko_KR'];
const SYLLABLES = [
  'ka',
  'lo',
  'mi',
  'ren',
  'dax',
  'vel',
  'tor',
  'shi',
  'pra',
  'gun',
  'zel',
  'fo',
  'bri',
  'nax',
  'qui',
  'ste',
  'mor',
  'lin',
  'tep',
  'ruv',
  'hal',
  'dro',
  'sna',
  'wex',
  'jol',
  'cry',
  'pax',
  'tum',
  'ori',
  'bel',
  'ny',
  'fra',
];
const EXTENSIONS = ['ts', 'js', 'py', 'go', 'rs', 'java', 'kt', 'rb', 'cs', 'swift', 'yaml', 'toml', 'json'];
const VERBS = ['fetch', 'parse', 'render', 'sync', 'resolve', 'load', 'flush', 'encode', 'schedule', 'merge'];

const OPENINGS = {
  bug: [
    'I ran into this while setting up the %COMP% for a new project on %PLATFORM%.',
    'Since %VERSION% the %COMP% %SYMPTOM% whenever %COND%.',
    'Not sure whether this is a bug in the %COMP% or a configuration problem on my side (%RUNTIME%).',
    'We see this in production roughly once a day with the %COMP%, never locally.',
    'Reproducible every time on our CI runners since we bumped the %COMP% to %VERSION%.',
    'A user of our downstream tool `%WORD%` reported this and I could confirm it with the %COMP%.',
  ],
  feature: [
    'Proposal: give the %COMP% %FEATURE%, behind a flag at first.',
    'We evaluated the %COMP% for our %WORD% platform and the one thing missing is %FEATURE%.',
    'Coming from %RUNTIME%, I expected the %COMP% to have %FEATURE% out of the box.',
    'Could %FEATURE% be added to the %COMP% in %VERSION%?',
    'It would be great if the %COMP% offered %FEATURE%.',
    'Feature request: %FEATURE% for the %COMP%, ideally configurable through `%ID%`.',
    'Our team maintains a fork of the %COMP% only to get %FEATURE%; we would love to drop it.',
    'Several people on the forum asked for %FEATURE% in the %COMP% as well.',
  ],
  question: [
    'Quick question about the %COMP% and `%ID%`.',
    'Our %WORD% service uses the %COMP% and I am unsure how `%ID%` is meant to be used.',
    'Before I open a bug: is it expected that the %COMP% %SYMPTOM% when %COND%?',
    'I could not find how the %COMP% handles `%ID%` in the documentation, so asking here.',
    'Is there a supported way to use the %COMP% together with %RUNTIME%?',
    'Sorry if this is obvious, I am new to the project and to the %COMP% (version %VERSION%).',
    'What is the recommended setup for the %COMP% when %COND%?',
  ],
  docs: [
    'The README section on the %COMP% links to `%PATH%`, which was moved.',
    'In the %COMP% tutorial, step %N% refers to `%ID%`, which was renamed.',
    'The API reference for the %COMP% lacks any example of `%ID%`.',
    'The page about the %COMP% still describes the behaviour of %VERSION%.',
    'The example for the %COMP% does not run as written: `%ID%` is undefined.',
    'A small documentation problem I noticed while reading about the %COMP% on %PLATFORM%.',
  ],
};
const DETAILS = {
  bug: [
    'Environment: %PLATFORM%, %RUNTIME%, version %VERSION%.',
    'It started after we enabled `%ID%` in the configuration.',
    'Downgrading to %VERSION% makes it go away.',
    'The same setup works on %PLATFORM%.',
    'I traced it to `%ID%` in `%PATH%`, which seems to assume the value is always set.',
    'Running with the verbose flag prints nothing useful before the failure.',
    'With about %N% records it is fine; with %M% it fails every time.',
    'Other parts of the application keep working while this happens.',
    'I tried clearing the cache directory and reinstalling, with no change.',
    'Our workaround is to call `%ID%()` manually before each run, which is ugly.',
    'The %COMP% %SYMPTOM% as soon as %COND%.',
    'This might be related to the changes to the %OTHER% in the last release, but I have not bisected it.',
    'In the meantime we pinned the previous version in our lockfile.',
    'Expected: the operation completes and the result is written to `%PATH%`.',
    'Actual: the %COMP% %SYMPTOM%.',
    'It also happens with `%ID%` turned off, so that is probably not the cause.',
    'Memory stays flat, so I do not think it is a leak.',
    'The log shows the %WORD% step taking %N% ms, far longer than usual.',
    'The %OTHER% next to it behaves correctly in the same situation.',
    'Our %WORD% team noticed it first on %PLATFORM% laptops.',
    'A colleague on %PLATFORM% cannot reproduce it at all.',
    'Setting `%ID%` to %N% did not help either.',
    'We have roughly %M% users on this path, so it matters to us.',
    'When I attach a debugger, `%ID%` receives an empty list.',
    'Git bisect points to a commit that touched `%PATH%`.',
    'Could the %COMP% at least log a warning instead?',
    'My guess is a race between `%ID%` and `%ID%`.',
    'The problem disappears if I remove `%PATH%` before starting.',
    'CPU usage stays at one full core while it is stuck.',
    'There is a similar report for the %OTHER%, but it was about %RUNTIME% and was closed as fixed.',
    'Upgrading %RUNTIME% to the newest patch release did not change anything.',
    'I attached a minimal project: one file, `%PATH%`, and a README with the commands.',
    'The response comes back with status %HTTP% and an empty body.',
    'Interestingly, restarting only the %COMP% is enough to recover.',
    'We deploy with %N% replicas and only one of them shows it at a time.',
    'From the changelog of %VERSION% I expected this to be fixed already.',
    'Port %PORT% is free, I checked with netstat.',
    'The crash dump mentions address 0x%HEX%, if that means anything.',
    'A short video of the behaviour is linked in the discussion thread.',
  ],
  request: [
    'Our %WORD% dashboard would be the first user of this.',
    'I can share our current workaround: a wrapper around `%ID%` of about %N% lines.',
    'Backward compatibility matters to us, so an opt-in switch would be ideal.',
    'The naming is open; `%ID%` is just a placeholder.',
    'Something similar was discussed for the %OTHER% a while ago.',
    'We target %PLATFORM% and %PLATFORM% in production.',
    'I am not sure whether the %COMP% or the %OTHER% is the right place for it.',
    'Performance is not a concern here, these calls happen maybe %N% times a day.',
    'An alternative would be to document how to do it with `%ID%` today.',
    'We currently maintain %N% lines of YAML just to emulate this.',
    'Thanks for considering it; I know the backlog is long.',
    'A maintainer on the chat suggested opening an issue to discuss the design.',
    'Happy to test a patch if someone points me in the right direction.',
    'I would be glad to send a pull request if the approach sounds acceptable.',
    'Competing tools handle this by exposing `%ID%` as an option.',
    'The docs for `%ID%` say nothing about this case.',
    'For context, we migrated from a home-grown %WORD% library last month.',
    'Would a setting such as `%ID%` be acceptable, or is there a better design?',
    'It would replace about %N% lines of glue code on our side.',
    'Our compliance team requires this before we can roll it out to %M% seats.',
    'Something like `%WORD%.%WORD% = true` in the config file would be enough.',
    'Maybe this belongs in the FAQ rather than in the reference pages.',
    'The %LOCALE% translation of the same page has the same problem.',
    'Right now we copy the same %N% lines into every project to get this.',
    'The closest thing today is `%ID%`, but it only covers the %OTHER%.',
    'Other projects in this space, such as %WORD%, already offer it.',
    'A minimal version would already help: just a flag, no new API.',
    'I looked at `%PATH%` and the change seems small, but I may be missing something.',
    'We run %RUNTIME% on %PLATFORM%, if that matters for the answer.',
    'The guide jumps from installing to deploying without explaining `%ID%`.',
    'A worked example with the %COMP% would go a long way.',
    'Our security review flagged the current behaviour, so this is more than a nice-to-have for us.',
    'Would you accept this behind an experimental flag first?',
    'The reference page lists `%ID%` but not its default value.',
    'Is this planned for %VERSION%, or should we keep our patch?',
    'Please tell me if this is out of scope, I can publish it as a separate package instead.',
    'Users on %PLATFORM% ask for it most often.',
  ],
};
const STEPS = [
  'Install version %VERSION% on %PLATFORM%.',
  'Set `%ID%` to true in the configuration file.',
  'Start the %COMP% with %N% items queued.',
  'Wait until %COND%.',
  'Open `%PATH%` in the editor.',
  'Call `%ID%()` twice in a row.',
  'Restart the service.',
  'Observe that the %COMP% %SYMPTOM%.',
];
const CLOSINGS = ['Thanks!', 'Thanks for the great project.', 'Any hints appreciated.', 'Cheers', '', '', ''];

const TITLES = {
  bug: [
    '%COMP% %SYMPTOM% when %COND%',
    '%ERRNAME% in %ID% after upgrading to %VERSION%',
    '[%PLATFORM%] %COMP% %SYMPTOM%',
    'Regression in %VERSION%: %COMP% %SYMPTOM%',
    '`%ID%` %SYMPTOM% with %RUNTIME%',
    '%COMP%: %ERRNAME% when %COND%',
  ],
  feature: ['Add %FEATURE% to the %COMP%', 'Support %FEATURE% in `%ID%`', '[Feature] %COMP%: %FEATURE%'],
  question: [
    'How to configure the %COMP% when %COND%?',
    'Question: %COMP% with %RUNTIME%',
    'Is `%ID%` supposed to be called from the %COMP%?',
  ],
  docs: ['Docs: %COMP% page mentions `%ID%`, which no longer exists', 'Outdated %COMP% example in the guide'],
};
const KINDS = ['bug', 'bug', 'bug', 'bug', 'feature', 'feature', 'question', 'docs'];

/** `template` split at its %SLOT% markers: text at even indexes, slot names at odd ones. */
const compiled = new Map();
function compile(template) {
  let parts = compiled.get(template);
  if (!parts) compiled.set(template, (parts = template.split(/%([A-Z]+)%/)));
  return parts;
}

const capitalize = (text) => text.charAt(0).toUpperCase() + text.slice(1);
const wordCount = (text) => {
  let count = 1;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 32) count++;
  return count;
};

/** A function writing one issue after another from the number stream `random`. */
function issueWriter(random) {
  let subject = '';
  let feature = '';
  const pick = (list) => list[Math.floor(random() * list.length)];
  const int = (min, max) => min + Math.floor(random() * (max - min + 1));
  const word = () => pick(SYLLABLES) + pick(SYLLABLES) + (random() < 0.5 ? pick(SYLLABLES) : '');
  const identifier = () => pick(VERBS) + capitalize(word()) + (random() < 0.3 ? int(2, 9) : '');
  const path = () => `src/${word()}/${word()}.${pick(EXTENSIONS)}`;
  const slots = {
    COMP: () => subject,
    OTHER: () => pick(COMPONENTS),
    SYMPTOM: () => pick(SYMPTOMS),
    COND: () => fill(pick(CONDITIONS)),
    FEATURE: () => feature,
    PLATFORM: () => pick(PLATFORMS),
    RUNTIME: () => pick(RUNTIMES),
    VERSION: () => `${int(0, 12)}.${int(0, 40)}.${int(0, 20)}`,
    ID: identifier,
    PATH: path,
    WORD: word,
    LOCALE: () => pick(LOCALES),
    ERRNAME: () => pick(ERRORS)[0],
    N: () => String(int(2, 5000)),
    M: () => String(int(2, 90000)),
    PORT: () => String(int(1024, 65535)),
    HEX: () => int(0x1000, 0xffffff).toString(16),
    HTTP: () => pick(['403', '404', '500', '502', '503']),
  };
  function fill(template) {
    const parts = compile(template);
    let text = parts[0];
    for (let i = 1; i < parts.length; i += 2) text += slots[parts[i]]() + parts[i + 1];
    return text;
  }
  /** The templates of `list` filled in a random order, none twice. */
  function* shuffled(list) {
    const rest = list.slice();
    for (let left = rest.length; left > 0; left--) {
      const i = Math.floor(random() * left);
      yield fill(rest[i]);
      rest[i] = rest[left - 1];
    }
  }
  function stackTrace() {
    const [name, message] = pick(ERRORS);
    const frames = [];
    for (let i = int(1, 4); i > 0; i--) frames.push(`    at ${identifier()} (${path()}:${int(1, 900)}:${int(1, 80)})`);
    return ['```', `${name}: ${fill(message)}`, ...frames, '```'].join('\n');
  }
  function steps() {
    const lines = ['Steps to reproduce:'];
    for (const step of shuffled(STEPS)) {
      lines.push(`${lines.length}. ${step}`);
      if (lines.length > 5 || (lines.length > 2 && random() < 0.4)) break;
    }
    return lines.join('\n');
  }

  return (number) => {
    subject = pick(COMPONENTS);
    feature = pick(FEATURES);
    const kind = pick(KINDS);
    const title = capitalize(fill(pick(TITLES[kind])));
    const target = kind === 'bug' ? int(30, 200) : int(40, 120);
    const blocks = [fill(pick(OPENINGS[kind]))];
    if (kind === 'bug' && random() < 0.5) blocks.push(stackTrace());
    if (kind === 'bug' && random() < 0.35) blocks.push(steps());
    let words = blocks.reduce((sum, block) => sum + wordCount(block), 0);
    const sentences = [];
    for (const sentence of shuffled(DETAILS[kind === 'bug' ? 'bug' : 'request'])) {
      if (sentences.length > 0 && words + wordCount(sentence) > target) break;
      sentences.push(sentence);
      words += wordCount(sentence);
    }
    const closing = pick(CLOSINGS);
    const prose = random() < 0.5 ? [sentences.join(' ')] : sentences;
    const body = [...blocks, ...prose, ...(closing ? [closing] : [])].join('\n\n');
    return { number, title, body, state: random() < 0.8 ? 'open' : 'closed' };
  };
}

/** Yields `count` filler issues numbered from `startNumber`, the same ones for the same `seed`. */
export function* fillerIssueStream({ seed, count, startNumber = 1 }) {
  const write = issueWriter(seededRandom(seed));
  for (let i = 0; i < count; i++) yield write(startNumber + i);
}

/** `count` filler issues numbered from `startNumber`, the same ones for the same `seed`. */
export function fillerIssues(options) {
  return Array.from(fillerIssueStream(options));
}
