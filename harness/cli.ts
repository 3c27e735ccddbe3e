// `virtgold` command line: dispatches to a command and turns errors into exit codes
// (0 success, 1 failing goldens or a translation error, 2 usage or setup error,
// 3 a bug in virtgold).
import { CapsError } from '../translator/index.js';
import { SetupError, UsageError, UserError } from './errors.js';
import { commandsOf, commandUsage, version, wantsHelp } from './help.js';

const USAGE = `usage:
  virtgold xml2argv --caps FILE INPUT.xml   print the QEMU command line (.args format);
                                            INPUT.xml - reads stdin
  virtgold xml2xml  --caps FILE INPUT.xml   print libvirt's normalized domain XML
  virtgold run      [FILTERS] [--only-failures] [--shard K/N] [--watch] [--translator builtin|libvirt|libvirt-tests | --translator-cmd CMD | --translator-worker CMD]
                    [--timeout MS] [--max-output SIZE] [--jobs N] [--reporter NAME[:FILE]]
                    [--no-determinism] [--schema] [--update|-u]
                                            compare the corpus with the goldens (--schema: also
                                            validate inputs and xml2xml outputs against libvirt's
                                            schema + the vf-token overlay); failing results are
                                            kept as pending in .virtgold/pending/ (--update, or
                                            VIRTGOLD_UPDATE=1: written as the goldens instead)
  virtgold update   [FILTERS] [--check] [--prune] [TRANSLATOR]
                                            rewrite goldens from the reference translator, or
                                            from TRANSLATOR (bless your own; --translator
                                            libvirt records real libvirt on the host's snapshot)
  virtgold review   [FILTERS] [TRANSLATOR]  accept, reject or skip each pending result (with none
                                            pending, or with TRANSLATOR: each golden that
                                            update [TRANSLATOR] would change)
  virtgold accept   [FILTERS]               make the pending results the goldens
                                            (virtgold accept 'hostdev/*')
  virtgold reject   [FILTERS]               drop the pending results
  virtgold compare  [--translator builtin|libvirt | --translator-cmd CMD | --translator-worker CMD]
                    (--reference builtin|libvirt|libvirt-tests | --reference-cmd CMD | --reference-worker CMD)
                    [--caps FILE]… [--mode MODE]… [--arch ARCH]… [--jobs N] [--timeout MS] [--max-output SIZE]
                    [--reporter NAME[:FILE]]… PATH…
                                            hold two translators against each other on domain
                                            files (folders are searched for *.xml), no goldens
  virtgold merge-reports A.json B.json… [--reporter junit:FILE|html:FILE|json:FILE]…
                                            one report of a run's shards (run --shard K/N)
  virtgold reduce   [--translator… ] [--reference… | --reference golden] --caps FILE [--mode MODE] [--out cases/AREA/NAME.xml]
                    [--max-tests N] DOMAIN.xml
                                            shrink a domain on which two translators disagree
  virtgold coverage [--root DIR] [--reporter pretty|json[:FILE]]… [AREA…]
                                            which elements and attributes of libvirt's domain
                                            schema the cases exercise
  virtgold worker                           serve translations as JSON lines on stdin/stdout
                                            (protocol: README, "The command line")
  virtgold --version                        print virtgold's version

TRANSLATOR (update, review): --translator builtin|libvirt | --translator-cmd CMD |
  --translator-worker CMD, with --timeout MS --max-output SIZE --jobs N as for run

FILTERS (each repeatable; repeated values combine): --case GLOB (or GLOB alone) --mode MODE --arch ARCH
  --version V; and --root DIR (default: the nearest directory upwards with cases/ and
  capabilities/), --pass-with-no-entries (succeed when the selection is empty)

exit status: 0 success, 1 translation error, failing goldens, or a compare with
  entries that differ or a broken translator, 2 usage or setup error (a file that cannot
  be read, a translator that cannot be started), 3 a bug in virtgold`;

async function dispatch(command: string | undefined, rest: string[]): Promise<number> {
  // Every command's --help is its usage, before anything else it would do.
  if (command && commandsOf(USAGE).includes(command) && wantsHelp(rest)) {
    process.stdout.write(`${commandUsage(USAGE, command)}\n`);
    return 0;
  }
  switch (command) {
    case 'xml2argv':
    case 'xml2xml':
      return (await import('./translate-one.js')).translateOne(command, rest);
    case 'compare':
      return (await import('./compare.js')).compareCommand(rest);
    case 'merge-reports':
      return (await import('./merge-reports.js')).mergeReportsCommand(rest);
    case 'reduce':
      return (await import('./reduce-cli.js')).reduceCommand(rest);
    case 'coverage':
      return (await import('./coverage-cli.js')).coverageCommand(rest);
    case 'worker':
      if (rest.length) throw new UsageError(`worker takes no arguments (got '${rest[0]}')`);
      return (await import('./worker.js')).serve();
    case 'accept':
    case 'reject':
      return (await import('./pending-cli.js')).pendingCommand(command, rest);
    case 'run':
    case 'update':
    case 'review':
      return (await import('./run.js')).runCommand(command, rest);
    case '--help':
    case '-h':
    case 'help':
      // `virtgold help run` is `virtgold run --help`.
      if (command === 'help' && rest[0] && commandsOf(USAGE).includes(rest[0])) {
        process.stdout.write(`${commandUsage(USAGE, rest[0])}\n`);
        return 0;
      }
      process.stdout.write(`${USAGE}\n`);
      return 0;
    case '--version':
    case '-V':
      process.stdout.write(`virtgold ${version()}\n`);
      return 0;
    default:
      throw new UsageError(command ? `unknown command '${command}'` : 'a command is required');
  }
}

/** stdout that cannot be written (a full disk, `> /dev/full`): one line, exit 2, no stack
 *  trace. A reader that went away (`| head`) is not an error worth a message. */
function guardOutput(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') {
      try { process.stderr.write(`virtgold: cannot write the output: ${e.code === "ENOSPC" ? 'no space left on device (ENOSPC)' : e.code ?? e.message}\n`); } catch { /* stderr is gone too */ }
    }
    process.exit(e.code === 'EPIPE' ? (process.exitCode as number | undefined) ?? 0 : 2);
  });
  process.stderr.on('error', () => process.exit(2));
}

export async function main(argv: string[]): Promise<number> {
  guardOutput();
  const [command, ...rest] = argv;
  try {
    return await dispatch(command, rest);
  } catch (e) {
    if (e instanceof UsageError) {
      // One line and where the usage is, not the whole usage.
      const known = command !== undefined && commandsOf(USAGE).includes(command);
      process.stderr.write(`virtgold: ${e.message}\n(virtgold ${known ? `${command} ` : ''}--help shows the usage)\n`);
      return 2;
    }
    if (e instanceof SetupError) {
      process.stderr.write(`virtgold: ${e.message}\n`);
      return 2;
    }
    if (e instanceof UserError || e instanceof CapsError) {
      process.stderr.write(`virtgold: ${e.message}\n`);
      return 1;
    }
    // A bug in virtgold itself: say so in one line; the stack only on request.
    process.stderr.write(`virtgold: internal error: ${(e as Error).message}\n`);
    if (process.env.VIRTGOLD_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    return 3;
  }
}
