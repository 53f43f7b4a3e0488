// The `comfycord` executable (bin/comfycord.js, `node dist/src/cli/index.js`): dispatch, then exit.
import { dispatch } from './dispatch.js';
import { processIO } from './io.js';

process.exitCode = await dispatch(process.argv.slice(2), processIO());
