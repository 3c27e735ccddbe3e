// npm run fuzz -- [--runs N] [--seed S]: the fuzz property test, for as long as you like.
import { execa } from 'execa';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20000' }, seed: { type: 'string' } } });
const env = { VIRTGOLD_FUZZ_RUNS: values.runs!, ...(values.seed ? { VIRTGOLD_FUZZ_SEED: values.seed } : {}) };
const r = await execa('node', ['--import', 'tsx', 'node_modules/uvu/bin.js', 'test', 'fuzz', '-i', 'helpers'], { env, stdio: 'inherit', reject: false });
process.exitCode = r.exitCode ?? 1;
