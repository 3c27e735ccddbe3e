// The errors the command line turns into exit codes (see harness/cli.ts):
// UsageError and SetupError exit 2, UserError exits 1.

/** Something the user can fix in a file or an argument (a missing input, a link leading out). */
export class UserError extends Error {
  override name = 'UserError';
}

/** Bad command-line usage: the usage text follows the message. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The project or the selection cannot be run as asked: no project here, a filter that
 *  selects nothing, a case that no snapshot can run, a malformed options file. */
export class SetupError extends Error {
  override name = 'SetupError';
}
