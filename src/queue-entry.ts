// Entry of dist/bundle/queue.cjs: `hls queue` bundled into one CommonJS file, because the relay starts
// it once per delivery and Node's ES module loader alone would add a third to its start-up time.
import { runQueue } from './commands/queue.js';

void runQueue(process.argv.slice(3)).then((code) => {
  process.exitCode = code;
});
