import { parseArgs } from 'node:util';
import { CliError, EXIT } from '../exit-codes.js';
import { GITHUB_NAME } from './fields.js';
import { readHeadersFile, type HeaderMap } from './headers.js';
import { visible } from './visible.js';

/** The flags of `hls queue`; also used to build its --help, so the two cannot drift apart. */
export const QUEUE_OPTIONS = [
  { name: 'body-file', value: 'F', env: 'HLS_BODY_FILE', help: 'raw request body ("-" = stdin)' },
  { name: 'event', value: 'E', env: 'HLS_GH_EVENT', help: 'event name (X-GitHub-Event)' },
  { name: 'delivery', value: 'D', env: 'HLS_GH_DELIVERY', help: 'delivery id (X-GitHub-Delivery)' },
  { name: 'signature', value: 'S', env: 'HLS_GH_SIGNATURE', help: 'X-Hub-Signature-256 value' },
  { name: 'headers-file', value: 'F', env: 'HLS_HEADERS_FILE', help: 'all request headers as a JSON object' },
  { name: 'db', value: 'PATH|URL', env: 'HLS_DB', help: 'SQLite database file or postgres:// URL' },
  { name: 'config', value: 'FILE', env: 'HLS_CONFIG', help: 'YAML config file' },
] as const;

export interface DeliveryInputs {
  bodyFile: string;
  event: string;
  delivery: string;
  signature: string | undefined;
  hookId: string | undefined;
  db: string | undefined;
  config: string | undefined;
}

const DELIVERY_ID = /^[A-Za-z0-9-]{1,64}$/;

/** Resolves each input by precedence: flag, then environment, then the headers file. */
export function resolveDeliveryInputs(argv: string[], env: NodeJS.ProcessEnv): DeliveryInputs {
  const flags = parseQueueFlags(argv);
  const pick = (name: (typeof QUEUE_OPTIONS)[number]['name']): string | undefined => {
    const option = QUEUE_OPTIONS.find((candidate) => candidate.name === name)!;
    return flags[name] || env[option.env] || undefined;
  };
  const headersFile = pick('headers-file');
  const headers: HeaderMap = headersFile ? readHeadersFile(headersFile) : new Map();

  const event = pick('event') ?? headers.get('x-github-event');
  const delivery = pick('delivery') ?? headers.get('x-github-delivery');
  const bodyFile = pick('body-file');
  if (!event) throw new CliError('no event name: pass --event, HLS_GH_EVENT or an X-GitHub-Event header', EXIT.USAGE);
  if (!delivery) {
    throw new CliError('no delivery id: pass --delivery, HLS_GH_DELIVERY or an X-GitHub-Delivery header', EXIT.USAGE);
  }
  if (!bodyFile) throw new CliError('no body: pass --body-file F (- for stdin) or HLS_BODY_FILE', EXIT.USAGE);
  if (!GITHUB_NAME.test(event)) throw new CliError(`invalid event name "${visible(event, 80)}"`, EXIT.DATA);
  if (!DELIVERY_ID.test(delivery)) {
    throw new CliError(`invalid delivery id "${visible(delivery, 80)}": expected [A-Za-z0-9-]{1,64}`, EXIT.DATA);
  }
  return {
    bodyFile,
    event,
    delivery,
    signature: pick('signature') ?? headers.get('x-hub-signature-256'),
    hookId: headers.get('x-github-hook-id'),
    db: pick('db'),
    config: pick('config'),
  };
}

function parseQueueFlags(argv: string[]): Record<string, string | undefined> {
  try {
    const { values } = parseArgs({
      args: argv,
      options: Object.fromEntries(QUEUE_OPTIONS.map((option) => [option.name, { type: 'string' as const }])),
      allowPositionals: false,
      strict: true,
    });
    return values as Record<string, string | undefined>;
  } catch (error) {
    throw new CliError(`${(error as Error).message.split('\n')[0]} (see hls queue --help)`, EXIT.USAGE);
  }
}
