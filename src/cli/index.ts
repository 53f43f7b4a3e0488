// The `comfycord` executable (bin/comfycord.js, `node dist/src/cli/index.js`): dispatch, then exit.
import { dispatch } from './dispatch.js';
import { processIO } from './io.js';
import { watchOutput } from './output-watch.js';

const io = processIO();
const stdout = watchOutput(io.stdout);
process.exitCode = await dispatch(process.argv.slice(2), io, undefined, stdout);
// Once stdout's reader has gone (`| head`), work the command left behind (sockets, timers) must not keep the
// process alive, and there is nothing left to flush into a closed pipe.
if (stdout.readerGone) process.exit();
