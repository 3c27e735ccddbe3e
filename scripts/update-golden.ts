// npm run update-golden [-- --case GLOB --arch A --version V --mode M]
import { main } from '../harness/cli.js';

process.exitCode = await main(['update', ...process.argv.slice(2)]);
